//! Every storage behaviour, on local disk always and on S3 when `TEST_S3_ENDPOINT` is set
//! (`make test` starts s3s-fs, which checks signatures and presigned-URL expiry).

#![expect(clippy::unwrap_used, reason = "a test fails loudly at the first surprise")]

use std::time::Duration;

use bytes::Bytes;
use domain::config::{ByteSize, Config, StorageKind};
use domain::storage::{BlobKey, BlobStore, ByteRange, PresignedGet, StorageError};
use futures_util::StreamExt;
use secrecy::SecretString;

/// The stores to test: local disk, plus S3 when a test server is configured.
async fn stores() -> Vec<(BlobStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let local = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    let mut stores = vec![(BlobStore::from_config(&local).await.unwrap(), dir)];
    if let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") {
        let bucket = format!("storage-test-{}", uuid::Uuid::new_v4().simple());
        let config = Config {
            storage: StorageKind::S3,
            s3_endpoint: Some(endpoint.clone()),
            s3_bucket: Some(bucket.clone()),
            s3_path_style: true,
            s3_access_key: std::env::var("TEST_S3_ACCESS_KEY").ok(),
            s3_secret_key: std::env::var("TEST_S3_SECRET_KEY").ok().map(SecretString::from),
            s3_part_size: ByteSize(8 << 20),
            ..Config::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::from_config(&config).await.unwrap();
        let BlobStore::S3(s3) = &store else { unreachable!("configured for S3") };
        s3.create_bucket().await.unwrap();
        stores.push((store, dir));
    }
    stores
}

async fn write(store: &BlobStore, bytes: &[u8], chunk: usize) -> BlobKey {
    let key = BlobKey::new_file();
    let mut writer = store.writer(&key).await.unwrap();
    for piece in bytes.chunks(chunk) {
        writer.write(Bytes::copy_from_slice(piece)).await.unwrap();
    }
    writer.finish().await.unwrap()
}

async fn read(
    store: &BlobStore,
    key: &BlobKey,
    range: Option<ByteRange>,
) -> Result<Vec<u8>, StorageError> {
    let mut stream = store.read(key, range).await?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    Ok(out)
}

/// Whether the S3 test server holds no unfinished multipart upload (s3s-fs keeps one
/// `.upload-<id>.json` per upload in its root; other tests' uploads finish within moments).
async fn no_unfinished_uploads() -> bool {
    let Ok(dir) = std::env::var("TEST_S3_DIR") else { return true };
    for _ in 0..50 {
        let pending = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".upload-"))
            .count();
        if pending == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A recognisable byte pattern.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn small_and_multipart_objects_read_back_whole_and_in_ranges() {
    for (store, _dir) in stores().await {
        assert_eq!(store.check().await.status, "ok");
        let small = pattern(1000);
        let key = write(&store, &small, 300).await;
        assert_eq!(read(&store, &key, None).await.unwrap(), small);
        let range = ByteRange { start: 10, end: 19 };
        assert_eq!(read(&store, &key, Some(range)).await.unwrap(), &small[10..20]);

        // 20 MiB with 8 MiB parts: three parts on S3, uploaded concurrently.
        let large = pattern(20 << 20);
        let key = write(&store, &large, 1 << 20).await;
        assert_eq!(read(&store, &key, None).await.unwrap(), large);
        let tail = ByteRange { start: (20 << 20) - 5, end: (20 << 20) - 1 };
        assert_eq!(read(&store, &key, Some(tail)).await.unwrap(), &large[(20 << 20) - 5..]);

        store.delete(&key).await.unwrap();
        assert!(matches!(read(&store, &key, None).await, Err(StorageError::NotFound)));
        store.delete(&key).await.unwrap(); // deleting twice is fine
    }
}

#[tokio::test]
async fn unfinished_writes_leave_nothing_behind() {
    for (store, dir) in stores().await {
        let key = BlobKey::new_file();
        let mut writer = store.writer(&key).await.unwrap();
        writer.write(Bytes::from(pattern(9 << 20))).await.unwrap();
        writer.abort().await;
        assert!(matches!(read(&store, &key, None).await, Err(StorageError::NotFound)));

        let key = BlobKey::new_file();
        let mut writer = store.writer(&key).await.unwrap();
        writer.write(Bytes::from(pattern(9 << 20))).await.unwrap();
        drop(writer); // a request cut off mid-upload
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(matches!(read(&store, &key, None).await, Err(StorageError::NotFound)));
        match store {
            BlobStore::Local(_) => {
                let none = std::collections::HashSet::new();
                assert_eq!(store.remove_stale_writes(Duration::ZERO, &none).await.unwrap(), 0);
                assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
            }
            BlobStore::S3(_) => assert!(no_unfinished_uploads().await, "multipart upload aborted"),
        }
    }
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire() {
    for (store, _dir) in stores().await {
        let key = write(&store, b"presigned bytes", 100).await;
        let params = |secs| PresignedGet {
            content_disposition: "attachment; filename=\"a.txt\"".into(),
            content_type: "text/plain".into(),
            expires_in: Duration::from_secs(secs),
        };
        let Some(url) = store.presign_get(&key, &params(60)).await.unwrap() else {
            assert!(matches!(store, BlobStore::Local(_)), "only local disk has no presigned URLs");
            continue;
        };
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"a.txt\"");
        assert_eq!(response.bytes().await.unwrap().as_ref(), b"presigned bytes");

        let tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600");
        assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
        let short = store.presign_get(&key, &params(1)).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert!(reqwest::get(&short).await.unwrap().status().is_client_error(), "expired");
    }
}
