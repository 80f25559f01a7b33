//! Storage use and deletion. Usage is always the sum of the owner's file rows, so it is exact by
//! construction; bytes of deleted rows are queued in `blob_deletions` in the same transaction
//! and removed after it commits (retried by the janitor if storage fails).

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::Usage;
use crate::AppError;
use crate::entities::{blob_deletions, files, uploads, users};
use crate::ids::FileId;
use crate::state::AppState;
use crate::storage::BlobKey;

/// Bytes the owner's files take, and their quota.
pub async fn usage(state: &AppState, owner: &users::Model) -> Result<Usage, AppError> {
    Ok(Usage { used: used_bytes(&state.db, owner.id).await?, quota: quota_of(state, owner) })
}

/// Stored in `users.quota_bytes` for "no limit for this account".
const UNLIMITED: i64 = i64::MAX;

/// An account's own quota, as an admin sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaSetting {
    /// The configured default (`PANNIER_DEFAULT_QUOTA`).
    Default,
    /// No limit.
    Unlimited,
    /// This many bytes.
    Bytes(u64),
}

impl QuotaSetting {
    /// Parses `default`, `unlimited` or a size (`500MiB`, `20GiB`), as the command line and
    /// the admin page take it.
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let invalid = |why: String| {
            AppError::invalid(
                "quota",
                format!("{why}. Write a size such as 500MiB or 20GiB, `unlimited` or `default`."),
            )
        };
        match text.trim().to_ascii_lowercase().as_str() {
            "default" => Ok(Self::Default),
            "unlimited" => Ok(Self::Unlimited),
            size => {
                let bytes = size.parse::<crate::config::ByteSize>().map_err(invalid)?.bytes();
                if i64::try_from(bytes).is_ok_and(|bytes| bytes < UNLIMITED) {
                    Ok(Self::Bytes(bytes))
                } else {
                    Err(invalid(format!("`{}` is too large", text.trim())))
                }
            }
        }
    }

    /// The account's own setting.
    pub(crate) fn of(owner: &users::Model) -> Self {
        match owner.quota_bytes {
            None => Self::Default,
            Some(UNLIMITED) => Self::Unlimited,
            Some(bytes) => Self::Bytes(u64::try_from(bytes).unwrap_or(0)),
        }
    }
}

/// The owner's quota: their own, else the configured default; `None` is unlimited.
pub(crate) fn quota_of(state: &AppState, owner: &users::Model) -> Option<u64> {
    match owner.quota_bytes {
        Some(UNLIMITED) => None,
        Some(quota) => u64::try_from(quota).ok(),
        None => state.config.default_quota.limit(),
    }
}

/// Sets an account's own quota. Files already stored stay; new uploads must fit.
pub async fn set_quota(
    db: &impl ConnectionTrait,
    user: &users::Model,
    setting: QuotaSetting,
) -> Result<(), AppError> {
    let value = match setting {
        QuotaSetting::Default => None,
        QuotaSetting::Unlimited => Some(UNLIMITED),
        QuotaSetting::Bytes(bytes) => {
            Some(Ord::min(i64::try_from(bytes).unwrap_or(UNLIMITED), UNLIMITED - 1))
        }
    };
    users::Entity::update_many()
        .col_expr(users::Column::QuotaBytes, Expr::value(value))
        .filter(users::Column::Id.eq(user.id))
        .exec(db)
        .await?;
    crate::cache::auth_changed(db).await?;
    Ok(())
}

/// Sum of the sizes of the owner's files.
pub(super) async fn used_bytes(db: &impl ConnectionTrait, owner: Uuid) -> Result<u64, AppError> {
    let owned = files::Entity::find().filter(files::Column::OwnerId.eq(owner));
    sum(db, owned, files::Column::Size).await
}

/// Sum of the declared lengths of the owner's resumable uploads in progress: space they hold
/// until they finish or expire, so several uploads together cannot overrun the quota.
pub(crate) async fn reserved_bytes(
    db: &impl ConnectionTrait,
    owner: Uuid,
) -> Result<u64, AppError> {
    let owned = uploads::Entity::find().filter(uploads::Column::OwnerId.eq(owner));
    sum(db, owned, uploads::Column::Length).await
}

/// `SUM(column)` over the rows `rows` selects (0 for none).
pub(crate) async fn sum<E: EntityTrait>(
    db: &impl ConnectionTrait,
    rows: sea_orm::Select<E>,
    column: E::Column,
) -> Result<u64, AppError> {
    let sum: Option<Option<i64>> = rows
        .select_only()
        .column_as(Expr::col(column).sum().cast_as("BIGINT"), "sum")
        .into_tuple()
        .one(db)
        .await?;
    Ok(sum.flatten().and_then(|sum| u64::try_from(sum).ok()).unwrap_or(0))
}

/// Bytes the owner's quota must cover: files stored plus uploads in progress.
pub(crate) async fn committed_bytes(
    db: &impl ConnectionTrait,
    owner: Uuid,
) -> Result<u64, AppError> {
    Ok(used_bytes(db, owner).await? + reserved_bytes(db, owner).await?)
}

/// Commits `txn`, which changed the owner's files or folders, and retires what the caches
/// hold of their tree — again after the commit, so a listing read while it was open (the
/// old tree) is not kept ([`crate::cache`]). The write sites retire it too.
pub(crate) async fn commit_tree(txn: DatabaseTransaction, owner: Uuid) -> Result<(), AppError> {
    txn.commit().await?;
    crate::cache::tree_changed(owner);
    Ok(())
}

/// Serializes one account's quota decisions for the rest of the transaction (a row lock on
/// PostgreSQL, the write lock on SQLite), so concurrent uploads cannot together overrun it.
pub(crate) async fn lock_owner(txn: &impl ConnectionTrait, owner: Uuid) -> Result<(), AppError> {
    users::Entity::update_many()
        .col_expr(users::Column::QuotaBytes, Expr::col(users::Column::QuotaBytes))
        .filter(users::Column::Id.eq(owner))
        .exec(txn)
        .await?;
    Ok(())
}

/// Queues objects for deletion (inside the caller's transaction).
pub(super) async fn queue_deletions(
    db: &impl ConnectionTrait,
    keys: impl IntoIterator<Item = String>,
) -> Result<(), AppError> {
    let rows: Vec<_> = keys
        .into_iter()
        .map(|blob_key| blob_deletions::ActiveModel {
            blob_key: sea_orm::Set(blob_key),
            created_at: sea_orm::Set(Utc::now()),
        })
        .collect();
    for chunk in rows.chunks(500) {
        blob_deletions::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([blob_deletions::Column::BlobKey])
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Deletes the owner's files `ids` (all of them, or none if any is not theirs → 404).
/// Returns the bytes released.
#[tracing::instrument(skip_all, fields(owner = %owner.id, count = ids.len()))]
pub async fn delete_files(
    state: &AppState,
    owner: &users::Model,
    ids: &[FileId],
) -> Result<u64, AppError> {
    let txn = state.db.begin().await?;
    let (keys, released) = delete_files_in(&txn, owner, ids).await?;
    commit_tree(txn, owner.id).await?;
    purge_deleted_blobs(state, Some(keys)).await;
    Ok(released)
}

/// [`delete_files`] inside the caller's transaction: the stored objects it queued for deletion
/// (to purge after the commit) and the bytes released.
pub(super) async fn delete_files_in(
    txn: &impl ConnectionTrait,
    owner: &users::Model,
    ids: &[FileId],
) -> Result<(Vec<String>, u64), AppError> {
    // A selection naming a file twice deletes it once.
    let ids: Vec<Uuid> = ids
        .iter()
        .map(|id| id.uuid())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let found = files::Entity::find()
        .filter(files::Column::OwnerId.eq(owner.id))
        .filter(files::Column::Id.is_in(ids.clone()))
        .all(txn)
        .await?;
    if found.len() != ids.len() {
        return Err(no_such_file());
    }
    let released = found.iter().map(|f| u64::try_from(f.size).unwrap_or(0)).sum();
    let keys: Vec<String> = found.into_iter().map(|f| f.blob_key).collect();
    queue_deletions(txn, keys.clone()).await?;
    files::Entity::delete_many().filter(files::Column::Id.is_in(ids)).exec(txn).await?;
    crate::cache::tree_changed(owner.id);
    Ok((keys, released))
}

/// Deletes queued objects (`keys`, or everything queued) from storage and then from the queue.
/// Failures are logged and left queued for the next run. Returns how many were purged.
pub async fn purge_deleted_blobs(state: &AppState, keys: Option<Vec<String>>) -> usize {
    let keys = match keys {
        Some(keys) => keys,
        None => match blob_deletions::Entity::find().limit(10_000).all(&state.db).await {
            Ok(rows) => rows.into_iter().map(|row| row.blob_key).collect(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the blob deletion queue");
                return 0;
            }
        },
    };
    let mut purged = 0;
    for key in keys {
        let deleted = match BlobKey::from_stored(&key) {
            Ok(blob) => delete_with_thumbnails(state, &blob).await,
            Err(_) => Ok(()), // not one of ours: nothing to delete
        };
        match deleted {
            Ok(()) => {
                if blob_deletions::Entity::delete_by_id(key).exec(&state.db).await.is_ok() {
                    purged += 1;
                }
            }
            Err(err) => tracing::warn!(key, error = %err, "could not delete an object; will retry"),
        }
    }
    purged
}

/// Deletes an object and, a file's bytes, its thumbnails (whether or not it had any).
async fn delete_with_thumbnails(
    state: &AppState,
    blob: &BlobKey,
) -> Result<(), crate::storage::StorageError> {
    if blob.is_file() {
        for size in [crate::media::ThumbSize::Small, crate::media::ThumbSize::Large] {
            state.storage.delete(&blob.thumbnail(size)).await?;
        }
    }
    state.storage.delete(blob).await
}

/// Queues every object the account owns (files, avatar) before the account is deleted; the
/// caller deletes the user row in the same transaction.
pub async fn queue_account_blobs(
    db: &impl ConnectionTrait,
    owner: &users::Model,
) -> Result<Vec<String>, AppError> {
    let mut keys: Vec<String> = files::Entity::find()
        .select_only()
        .column(files::Column::BlobKey)
        .filter(files::Column::OwnerId.eq(owner.id))
        .into_tuple()
        .all(db)
        .await?;
    keys.extend(owner.avatar_key.clone());
    queue_deletions(db, keys.clone()).await?;
    Ok(keys)
}

pub(super) fn no_such_file() -> AppError {
    AppError::NotFound("No such file. It may have been deleted.".into())
}
