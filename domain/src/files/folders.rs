//! Folders: each account has one root (made on first use); names are unique among siblings;
//! moves never make cycles; deleting a folder deletes everything under it.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::Deleted;
use super::listing::folder_dto;
use super::quota::{commit_tree, lock_owner, purge_deleted_blobs, queue_deletions};
use super::tree::{MAX_DEPTH, depth, is_within, subtree, too_deep};
use super::{FileName, FolderDto};
use crate::AppError;
use crate::entities::{files, folders, users};
use crate::ids::{FolderId, FolderRef};
use crate::state::AppState;

/// The owner's root folder, created on first use (concurrent first uses agree on one).
pub(super) async fn root(
    db: &impl ConnectionTrait,
    owner: Uuid,
) -> Result<folders::Model, AppError> {
    let find = || {
        folders::Entity::find()
            .filter(folders::Column::OwnerId.eq(owner))
            .filter(folders::Column::ParentId.is_null())
    };
    if let Some(root) = find().one(db).await? {
        return Ok(root);
    }
    let now = Utc::now();
    let created = folders::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner),
        parent_id: Set(None),
        name: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        visitor_hash: Set(None),
    }
    .insert(db)
    .await;
    crate::cache::tree_changed(owner);
    match created {
        Ok(root) => Ok(root),
        // Lost a race with another request creating it: the unique index kept one.
        Err(_) => find().one(db).await?.ok_or(AppError::Internal),
    }
}

/// The owner's folder `folder` (their root for [`FolderRef::Root`]). Anyone else's → 404.
pub async fn folder_of(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    folder: impl Into<FolderRef>,
) -> Result<folders::Model, AppError> {
    let FolderRef::Id(id) = folder.into() else {
        return root(db, owner.id).await;
    };
    folders::Entity::find_by_id(id.uuid())
        .filter(folders::Column::OwnerId.eq(owner.id))
        .one(db)
        .await?
        .ok_or_else(no_such_folder)
}

/// Creates a folder in `parent` (the root when `None`).
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn create_folder(
    state: &AppState,
    owner: &users::Model,
    parent: FolderRef,
    name: &FileName,
) -> Result<FolderDto, AppError> {
    let parent = folder_of(&state.db, owner, parent).await?;
    if depth(&state.db, &parent).await? + 1 > MAX_DEPTH {
        return Err(too_deep());
    }
    if child(&state.db, parent.id, name).await?.is_some() {
        return Err(name_taken(name));
    }
    let folder =
        insert(&state.db, owner.id, parent.id, name, None).await.map_err(|_| name_taken(name))?;
    Ok(folder_dto(&folder))
}

async fn insert(
    db: &impl ConnectionTrait,
    owner: Uuid,
    parent: Uuid,
    name: &FileName,
    visitor_hash: Option<&str>,
) -> Result<folders::Model, sea_orm::DbErr> {
    let now = Utc::now();
    let inserted = folders::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner),
        parent_id: Set(Some(parent)),
        name: Set(name.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        visitor_hash: Set(visitor_hash.map(str::to_owned)),
    }
    .insert(db)
    .await;
    crate::cache::tree_changed(owner);
    inserted
}

async fn child(
    db: &impl ConnectionTrait,
    parent: Uuid,
    name: &FileName,
) -> Result<Option<folders::Model>, AppError> {
    Ok(folders::Entity::find()
        .filter(folders::Column::ParentId.eq(parent))
        .filter(folders::Column::Name.eq(name.as_str()))
        .one(db)
        .await?)
}

/// Who makes an upload's sub-folders.
#[derive(Debug, Clone, Copy)]
pub enum Maker<'a> {
    /// The owner: any folder of theirs with the name is used.
    Owner,
    /// A file request's visitor (their token's hash, if their browser has one): only folders
    /// their own uploads made are used; beside any other folder of the name a new one is made
    /// (`Photos (1)`). A visitor without a token never reuses a folder.
    Visitor(Option<&'a str>),
}

/// The folder at `dirs` below `base`, creating the missing ones (folder uploads keep their
/// tree) as `maker` may, never deeper than [`MAX_DEPTH`].
pub async fn ensure_path(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    base: folders::Model,
    dirs: &[FileName],
    maker: Maker<'_>,
) -> Result<folders::Model, AppError> {
    if !dirs.is_empty() && depth(db, &base).await? + dirs.len() > MAX_DEPTH {
        return Err(too_deep());
    }
    let mut folder = base;
    for name in dirs {
        folder = match maker {
            Maker::Owner => match child(db, folder.id, name).await? {
                Some(existing) => existing,
                None => match insert(db, owner.id, folder.id, name, None).await {
                    Ok(created) => created,
                    // Another upload of the same tree created it first.
                    Err(_) => child(db, folder.id, name).await?.ok_or(AppError::Internal)?,
                },
            },
            Maker::Visitor(hash) => match visitors_child(db, folder.id, name, hash).await? {
                Some(own) => own,
                None => {
                    let free = free_folder_name(db, folder.id, name).await?;
                    insert(db, owner.id, folder.id, &free, hash).await?
                }
            },
        };
    }
    Ok(folder)
}

/// The sub-folder of `parent` for `name` that visitor `hash` made, if any.
async fn visitors_child(
    db: &impl ConnectionTrait,
    parent: Uuid,
    name: &FileName,
    hash: Option<&str>,
) -> Result<Option<folders::Model>, AppError> {
    let Some(hash) = hash else { return Ok(None) };
    let own = folders::Entity::find()
        .filter(folders::Column::ParentId.eq(parent))
        .filter(folders::Column::VisitorHash.eq(hash))
        .all(db)
        .await?;
    Ok(own.into_iter().find(|folder| FileName::sanitize(&folder.name).is_form_of(name)))
}

/// `name`, or the first numbered form of it, that no sub-folder of `parent` has (one query).
async fn free_folder_name(
    db: &impl ConnectionTrait,
    parent: Uuid,
    name: &FileName,
) -> Result<FileName, AppError> {
    let siblings = folders::Entity::find().filter(folders::Column::ParentId.eq(parent));
    let taken = names_like(db, siblings, folders::Column::Name, name).await?;
    name.first_free(&taken).ok_or_else(|| name_taken(name))
}

/// The names among `rows` (`column`) that could clash with `name` or a numbered form of it:
/// one query, for [`FileName::first_free`].
pub(super) async fn names_like<E: EntityTrait>(
    db: &impl ConnectionTrait,
    rows: sea_orm::Select<E>,
    column: E::Column,
    name: &FileName,
) -> Result<HashSet<String>, AppError> {
    let like = LikeExpr::new(name.numbering_pattern()).escape('\\');
    let names: Vec<String> = rows
        .select_only()
        .column(column)
        .filter(Expr::col(column).like(like))
        .into_tuple()
        .all(db)
        .await?;
    Ok(names.into_iter().collect())
}

/// Renames and/or moves a folder. The root cannot be changed; a folder cannot move into itself
/// or below itself, nor so that its subtree would sit deeper than [`MAX_DEPTH`]; names stay
/// unique in the target. The owner's tree is locked for the move, so two moves at once cannot
/// make a cycle between them (each sees the other's result).
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn update_folder(
    state: &AppState,
    owner: &users::Model,
    id: FolderId,
    name: Option<FileName>,
    parent: Option<FolderRef>,
) -> Result<FolderDto, AppError> {
    let txn = state.db.begin().await?;
    lock_owner(&txn, owner.id).await?;
    let updated = update_folder_in(&txn, owner, id, name, parent).await?;
    commit_tree(txn, owner.id).await?;
    Ok(folder_dto(&updated))
}

/// [`update_folder`] inside the caller's transaction, which holds the owner's lock.
pub(super) async fn update_folder_in(
    txn: &impl ConnectionTrait,
    owner: &users::Model,
    id: FolderId,
    name: Option<FileName>,
    parent: Option<FolderRef>,
) -> Result<folders::Model, AppError> {
    let folder = folder_of(txn, owner, id).await?;
    if folder.parent_id.is_none() {
        return Err(AppError::BadRequest("Your root folder cannot be renamed or moved.".into()));
    }
    let parent = parent.unwrap_or_else(|| folder.parent_id.map(FolderId::from).into());
    let target = folder_of(txn, owner, parent).await?;
    if is_within(txn, &target, folder.id).await? {
        return Err(AppError::Conflict(
            "A folder cannot be moved into itself or one of its own subfolders.".into(),
        ));
    }
    if Some(target.id) != folder.parent_id {
        let (_, levels) = subtree(txn, folder.id).await?;
        if depth(txn, &target).await? + 1 + levels > MAX_DEPTH {
            return Err(too_deep());
        }
    }
    let name = name.unwrap_or_else(|| FileName::sanitize(&folder.name));
    if let Some(other) = child(txn, target.id, &name).await?
        && other.id != folder.id
    {
        return Err(name_taken(&name));
    }
    let mut active = folder.into_active_model();
    active.name = Set(name.as_str().to_owned());
    active.parent_id = Set(Some(target.id));
    active.updated_at = Set(Utc::now());
    let updated = active.update(txn).await.map_err(|_| name_taken(&name))?;
    crate::cache::tree_changed(owner.id);
    Ok(updated)
}

/// Deletes a folder with everything below it; its files' bytes go in the same transaction.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn delete_folder(
    state: &AppState,
    owner: &users::Model,
    id: FolderId,
) -> Result<Deleted, AppError> {
    let txn = state.db.begin().await?;
    let (keys, deleted) = delete_folder_in(&txn, owner, id).await?;
    commit_tree(txn, owner.id).await?;
    purge_deleted_blobs(state, Some(keys)).await;
    Ok(deleted)
}

/// [`delete_folder`] inside the caller's transaction: the stored objects it queued for
/// deletion (to purge after the commit) and what went.
pub(super) async fn delete_folder_in(
    txn: &impl ConnectionTrait,
    owner: &users::Model,
    id: FolderId,
) -> Result<(Vec<String>, Deleted), AppError> {
    let folder = folder_of(txn, owner, id).await?;
    if folder.parent_id.is_none() {
        return Err(AppError::BadRequest("Your root folder cannot be deleted.".into()));
    }
    let (ids, _) = subtree(txn, folder.id).await?;
    let mut keys = Vec::new();
    let mut bytes = 0u64;
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, i64)> = files::Entity::find()
            .select_only()
            .column(files::Column::BlobKey)
            .column(files::Column::Size)
            .filter(files::Column::FolderId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(txn)
            .await?;
        for (key, size) in rows {
            bytes += u64::try_from(size).unwrap_or(0);
            keys.push(key);
        }
        files::Entity::delete_many()
            .filter(files::Column::FolderId.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }
    queue_deletions(txn, keys.clone()).await?;
    // Children first, so no engine has to cascade through the self-reference.
    for chunk in ids.rchunks(500) {
        folders::Entity::delete_many()
            .filter(folders::Column::Id.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
    }
    crate::cache::tree_changed(owner.id);
    let files = keys.len() as u64;
    Ok((keys, Deleted { files, bytes }))
}

pub(super) fn no_such_folder() -> AppError {
    AppError::NotFound("No such folder. It may have been deleted.".into())
}

fn name_taken(name: &FileName) -> AppError {
    AppError::Conflict(format!(
        "There is already a folder named “{name}” here. Choose another name."
    ))
}
