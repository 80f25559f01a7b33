//! `pannier storage check [--repair]`: storage and the database agree — every stored object of
//! a file or a profile picture has its row, and every row its object. Objects no row references
//! (a crash between writing the bytes and the row, a delete that failed for good) are listed
//! and, with `repair`, queued for deletion and purged; rows whose object is missing are listed
//! (their bytes are gone: only a backup brings them back). A packed object is listed from its
//! pack's records: one whose row never came is an orphan, one punched or cut off is missing.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::quota::{purge_deleted_blobs, queue_deletions};
use crate::AppError;
use crate::entities::{blob_deletions, files, uploads, users};
use crate::state::AppState;
use crate::storage::BlobKey;

/// The kinds of object that rows reference (a thumbnail: through its file's key).
const KINDS: [&str; 5] = ["blobs", "packed", "avatars", "thumbs-small", "thumbs-large"];

/// What a check found (and, with `repair`, removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageReport {
    /// Objects looked at.
    pub objects: usize,
    /// Keys of objects no row references (older than the grace period).
    pub orphans: Vec<String>,
    /// Keys that rows reference but storage does not hold.
    pub missing: Vec<String>,
    /// Orphans removed (with `repair`).
    pub removed: usize,
}

impl StorageReport {
    /// Whether storage and the database agree (after any repair).
    pub fn is_consistent(&self) -> bool {
        self.missing.is_empty() && self.orphans.len() == self.removed
    }
}

/// Compares storage with the rows. Objects younger than `grace` are left out of the orphans
/// (an upload between writing its bytes and its row); with `repair`, orphans are deleted.
pub async fn check_storage(
    state: &AppState,
    repair: bool,
    grace: Duration,
) -> Result<StorageReport, AppError> {
    let referenced = referenced_keys(&state.db).await?;
    let queued: HashSet<String> = column(
        &state.db,
        blob_deletions::Entity::find().select_only().column(blob_deletions::Column::BlobKey),
    )
    .await?;
    let cutoff = SystemTime::now() - grace;
    let mut report = StorageReport::default();
    let mut stored = HashSet::new();
    for kind in KINDS {
        for (key, modified) in state.storage.list(kind).await? {
            report.objects += 1;
            let by = referrer(&key);
            if !referenced.contains(&by) && !queued.contains(&by) && modified < cutoff {
                report.orphans.push(key.clone());
            }
            stored.insert(key);
        }
    }
    let rows =
        column(&state.db, files::Entity::find().select_only().column(files::Column::BlobKey))
            .await?
            .into_iter()
            .chain(avatar_keys(&state.db).await?);
    report.missing = rows.filter(|key| !stored.contains(key)).collect();
    report.orphans.sort();
    report.missing.sort();
    if repair && !report.orphans.is_empty() {
        queue_deletions(&state.db, report.orphans.clone()).await?;
        report.removed = purge_deleted_blobs(state, Some(report.orphans.clone())).await;
    }
    Ok(report)
}

/// The key whose row keeps `key`: a thumbnail's file (`thumbs-small/ID` → `blobs/ID`, which
/// [`referenced_keys`] holds for packed files too).
fn referrer(key: &str) -> String {
    match key.split_once('/') {
        Some(("thumbs-small" | "thumbs-large", id)) => format!("blobs/{id}"),
        _ => key.to_owned(),
    }
}

/// Every key a row points at: files, profile pictures, resumable uploads in progress.
async fn referenced_keys(db: &impl ConnectionTrait) -> Result<HashSet<String>, AppError> {
    let mut keys: HashSet<String> =
        column(db, files::Entity::find().select_only().column(files::Column::BlobKey)).await?;
    keys.extend(avatar_keys(db).await?);
    keys.extend(
        column(db, uploads::Entity::find().select_only().column(uploads::Column::BlobKey)).await?,
    );
    let files: Vec<String> = keys
        .iter()
        .filter_map(|key| BlobKey::from_stored(key).ok().filter(BlobKey::is_file))
        .map(|key| key.loose())
        .collect();
    keys.extend(files);
    Ok(keys)
}

async fn avatar_keys(db: &impl ConnectionTrait) -> Result<HashSet<String>, AppError> {
    let keys: Vec<Option<String>> = users::Entity::find()
        .select_only()
        .column(users::Column::AvatarKey)
        .filter(users::Column::AvatarKey.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(keys.into_iter().flatten().collect())
}

/// One text column of a query's rows.
async fn column<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<E>,
) -> Result<HashSet<String>, AppError> {
    let values: Vec<String> = select.into_tuple().all(db).await?;
    Ok(values.into_iter().collect())
}
