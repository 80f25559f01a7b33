//! The service-test harness: an `AppState` on a migrated in-memory SQLite database and a store
//! in a temp dir — or in a new bucket of the S3 server named by `TEST_S3_ENDPOINT` (`make test`
//! runs these tests again on s3s-fs) — so rules are tested where they live.
//! [`TestState::assert_clean`] fails a test that leaves queued deletions, objects no row
//! references, or rows without their objects.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first surprise")]

use std::time::Duration;

use bytes::Bytes;
use sea_orm::{EntityTrait, PaginatorTrait};
use secrecy::SecretString;
use tempfile::TempDir;

use crate::account::{DisplayName, EmailAddress, Role};
use crate::config::{Config, StorageKind};
use crate::entities::{blob_deletions, users};
use crate::files::{FileDto, Upload, Uploader, check_storage, store_file};
use crate::state::AppState;
use crate::storage::BlobStore;

/// An application state of a test's own.
pub(crate) struct TestState {
    pub state: AppState,
    _dir: TempDir,
}

impl TestState {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
        if let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") {
            config.storage = StorageKind::S3;
            config.s3_endpoint = Some(endpoint);
            config.s3_bucket = Some(format!("service-test-{}", uuid::Uuid::new_v4().simple()));
            config.s3_path_style = true;
            config.s3_access_key = std::env::var("TEST_S3_ACCESS_KEY").ok();
            config.s3_secret_key = std::env::var("TEST_S3_SECRET_KEY").ok().map(SecretString::from);
        }
        let storage = BlobStore::from_config(&config).await.expect("a store");
        if let BlobStore::S3(s3) = &storage {
            s3.create_bucket().await.expect("a bucket of the test's own");
        }
        let db = crate::db::memory_db().await;
        Self { state: AppState::new(config, db, storage), _dir: dir }
    }

    /// A new account.
    pub async fn user(&self, email: &str) -> users::Model {
        let email = EmailAddress::parse(email).expect("an email");
        let name = DisplayName::parse("Test Person").expect("a name");
        let password = SecretString::from("correct horse battery staple");
        crate::users::create(&self.state.db, &email, &name, password, Role::User)
            .await
            .expect("an account")
    }

    /// Stores `bytes` as `name` in `owner`'s root folder.
    pub async fn file(&self, owner: &users::Model, name: &str, bytes: &'static [u8]) -> FileDto {
        let upload = Upload { name: name.into(), ..Upload::default() };
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(bytes))]);
        store_file(&self.state, &Uploader::Account(owner.clone()), upload, body)
            .await
            .expect("stored")
    }

    /// Fails when the test left deletions queued, objects without rows or rows without objects.
    pub async fn assert_clean(&self) {
        let queued = blob_deletions::Entity::find().count(&self.state.db).await.expect("count");
        assert_eq!(queued, 0, "deletions left queued");
        let report = check_storage(&self.state, false, Duration::ZERO).await.expect("a check");
        assert!(report.is_consistent(), "storage and rows disagree: {report:?}");
    }
}
