//! A selection of files and folders moved or deleted as one: one transaction under the
//! owner's lock, so either every item moves (or goes) or none does — a failure half-way (a
//! name taken, an item someone else deleted) changes nothing.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::Deleted;
use super::edit::update_file_in;
use super::folders::{delete_folder_in, folder_of, update_folder_in};
use super::quota::{commit_tree, delete_files_in, lock_owner, purge_deleted_blobs};
use super::tree::subtree;
use crate::AppError;
use crate::entities::{files as file_rows, users};
use crate::ids::{FileId, FolderId, FolderRef};
use crate::state::AppState;

/// The most items one move, delete or measure takes (a page lists at most a few hundred).
pub const MAX_ITEMS: usize = 1000;

/// Refuses a selection larger than [`MAX_ITEMS`] before any query runs.
fn bounded(files: &[FileId], folders: &[FolderId]) -> Result<(), AppError> {
    if files.len() + folders.len() > MAX_ITEMS {
        return Err(AppError::BadRequest(format!(
            "At most {MAX_ITEMS} items can be changed at once: select fewer."
        )));
    }
    Ok(())
}

/// Moves the owner's `files` and `folders` into folder `target`.
#[tracing::instrument(skip_all, fields(owner = %owner.id, files = files.len(), folders = folders.len()))]
pub async fn move_items(
    state: &AppState,
    owner: &users::Model,
    files: &[FileId],
    folders: &[FolderId],
    target: FolderRef,
) -> Result<(), AppError> {
    bounded(files, folders)?;
    let txn = state.db.begin().await?;
    lock_owner(&txn, owner.id).await?;
    for id in folders {
        update_folder_in(&txn, owner, *id, None, Some(target)).await?;
    }
    for id in files {
        update_file_in(&txn, owner, *id, None, Some(target), None).await?;
    }
    commit_tree(txn, owner.id).await?;
    Ok(())
}

/// Deletes the owner's `files` and `folders` (ids; folders with everything in them).
#[tracing::instrument(skip_all, fields(owner = %owner.id, files = files.len(), folders = folders.len()))]
pub async fn delete_items(
    state: &AppState,
    owner: &users::Model,
    files: &[FileId],
    folders: &[FolderId],
) -> Result<Deleted, AppError> {
    bounded(files, folders)?;
    let txn = state.db.begin().await?;
    lock_owner(&txn, owner.id).await?;
    let mut keys = Vec::new();
    let mut deleted = Deleted { files: 0, bytes: 0 };
    for id in folders {
        let (gone, counted) = delete_folder_in(&txn, owner, *id).await?;
        keys.extend(gone);
        deleted.files += counted.files;
        deleted.bytes += counted.bytes;
    }
    if !files.is_empty() {
        let (gone, bytes) = delete_files_in(&txn, owner, files).await?;
        deleted.files += gone.len() as u64;
        deleted.bytes += bytes;
        keys.extend(gone);
    }
    commit_tree(txn, owner.id).await?;
    purge_deleted_blobs(state, Some(keys)).await;
    Ok(deleted)
}

/// What deleting the owner's `files` and `folders` would remove, read without changing
/// anything (the delete dialog says it first): files counted once even when a selected file
/// lies in a selected folder. An id that is not the owner's is a 404, as the delete's.
pub async fn measure_items(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    files: &[FileId],
    folders: &[FolderId],
) -> Result<Deleted, AppError> {
    bounded(files, folders)?;
    let mut sizes: HashMap<Uuid, i64> = HashMap::new();
    for id in folders {
        let folder = folder_of(db, owner, *id).await?;
        let (ids, _) = subtree(db, folder.id).await?;
        for chunk in ids.chunks(500) {
            sizes.extend(sizes_of(db, file_rows::Column::FolderId.is_in(chunk.to_vec())).await?);
        }
    }
    let wanted: Vec<Uuid> = files.iter().map(|id| id.uuid()).collect();
    for chunk in wanted.chunks(500) {
        let found = sizes_of(
            db,
            Condition::all()
                .add(file_rows::Column::Id.is_in(chunk.to_vec()))
                .add(file_rows::Column::OwnerId.eq(owner.id)),
        )
        .await?;
        if found.len() < chunk.len() {
            return Err(super::quota::no_such_file());
        }
        sizes.extend(found);
    }
    let bytes = sizes.values().map(|size| u64::try_from(*size).unwrap_or(0)).sum();
    Ok(Deleted { files: sizes.len() as u64, bytes })
}

/// `(id, size)` of the files `condition` picks.
async fn sizes_of(
    db: &impl ConnectionTrait,
    condition: impl sea_orm::sea_query::IntoCondition,
) -> Result<Vec<(Uuid, i64)>, AppError> {
    Ok(file_rows::Entity::find()
        .select_only()
        .column(file_rows::Column::Id)
        .column(file_rows::Column::Size)
        .filter(condition)
        .into_tuple()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestState;

    #[tokio::test]
    async fn a_selection_goes_whole_or_not_at_all_and_leaves_nothing_behind() {
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let a = t.file(&ada, "a.txt", b"a").await;
        let b = t.file(&ada, "b.txt", b"bb").await;
        let missing = crate::ids::FileId::random();
        let partly = delete_items(&t.state, &ada, &[a.id, missing], &[]).await;
        assert!(matches!(partly, Err(AppError::NotFound(_))));
        t.assert_clean().await;
        let measured = measure_items(&t.state.db, &ada, &[a.id, b.id], &[]).await.unwrap();
        let deleted = delete_items(&t.state, &ada, &[a.id, b.id], &[]).await.unwrap();
        assert_eq!(measured, deleted);
        assert_eq!((deleted.files, deleted.bytes), (2, 3));
        t.assert_clean().await;
    }

    #[tokio::test]
    async fn measuring_counts_each_file_once_and_only_the_owners() {
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let bob = t.user("bob@example.com").await;
        let name = crate::files::FileName::parse("Trip").unwrap();
        let trip =
            crate::files::create_folder(&t.state, &ada, FolderRef::Root, &name).await.unwrap();
        let inner = t.file(&ada, "inner.txt", b"1234").await;
        move_items(&t.state, &ada, &[inner.id], &[], FolderRef::Id(trip.id)).await.unwrap();
        let outer = t.file(&ada, "outer.txt", b"12").await;
        // The file inside the selected folder counts once.
        let both =
            measure_items(&t.state.db, &ada, &[inner.id, outer.id], &[trip.id]).await.unwrap();
        assert_eq!((both.files, both.bytes), (2, 6));
        // Another account's file or folder is not found, as its delete would be.
        let theirs = t.file(&bob, "theirs.txt", b"x").await;
        let err = measure_items(&t.state.db, &ada, &[theirs.id], &[]).await;
        assert!(matches!(err, Err(AppError::NotFound(_))));
        let err = measure_items(&t.state.db, &bob, &[], &[trip.id]).await;
        assert!(matches!(err, Err(AppError::NotFound(_))));
        // A selection past the bound is refused before any query.
        let many: Vec<FileId> = (0..=MAX_ITEMS).map(|_| FileId::random()).collect();
        let err = measure_items(&t.state.db, &ada, &many, &[]).await;
        assert!(matches!(err, Err(AppError::BadRequest(_))));
        let err = delete_items(&t.state, &ada, &many, &[]).await;
        assert!(matches!(err, Err(AppError::BadRequest(_))));
    }
}
