//! A selection of files and folders moved or deleted as one: one transaction under the
//! owner's lock, so either every item moves (or goes) or none does — a failure half-way (a
//! name taken, an item someone else deleted) changes nothing.

use sea_orm::TransactionTrait;

use super::edit::update_file_in;
use super::folders::{Deleted, delete_folder_in, update_folder_in};
use super::quota::{commit_tree, delete_files_in, lock_owner, purge_deleted_blobs};
use crate::AppError;
use crate::entities::users;
use crate::ids::{FileId, FolderId, FolderRef};
use crate::state::AppState;

/// Moves the owner's `files` and `folders` into folder `target`.
#[tracing::instrument(skip_all, fields(owner = %owner.id, files = files.len(), folders = folders.len()))]
pub async fn move_items(
    state: &AppState,
    owner: &users::Model,
    files: &[FileId],
    folders: &[FolderId],
    target: FolderRef,
) -> Result<(), AppError> {
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
        let deleted = delete_items(&t.state, &ada, &[a.id, b.id], &[]).await.unwrap();
        assert_eq!((deleted.files, deleted.bytes), (2, 3));
        t.assert_clean().await;
    }
}
