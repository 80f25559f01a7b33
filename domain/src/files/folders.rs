//! Folders: each account has one root (made on first use); names are unique among siblings;
//! moves never make cycles; deleting a folder deletes everything under it.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::listing::folder_dto;
use super::quota::{purge_deleted_blobs, queue_deletions};
use super::{FileName, FolderDto};
use crate::AppError;
use crate::entities::{files, folders, users};
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
    }
    .insert(db)
    .await;
    match created {
        Ok(root) => Ok(root),
        // Lost a race with another request creating it: the unique index kept one.
        Err(_) => find().one(db).await?.ok_or(AppError::Internal),
    }
}

/// The owner's folder `id`, or their root when `id` is `None`. Anyone else's → 404.
pub async fn folder_of(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    id: Option<&str>,
) -> Result<folders::Model, AppError> {
    let Some(id) = id.filter(|id| !id.is_empty() && *id != "root") else {
        return root(db, owner.id).await;
    };
    let id = Uuid::parse_str(id).map_err(|_| no_such_folder())?;
    folders::Entity::find_by_id(id)
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
    parent: Option<&str>,
    name: &FileName,
) -> Result<FolderDto, AppError> {
    let parent = folder_of(&state.db, owner, parent).await?;
    if child(&state.db, parent.id, name).await?.is_some() {
        return Err(name_taken(name));
    }
    let folder =
        insert(&state.db, owner.id, parent.id, name).await.map_err(|_| name_taken(name))?;
    Ok(folder_dto(&folder))
}

async fn insert(
    db: &impl ConnectionTrait,
    owner: Uuid,
    parent: Uuid,
    name: &FileName,
) -> Result<folders::Model, sea_orm::DbErr> {
    let now = Utc::now();
    folders::ActiveModel {
        id: Set(Uuid::new_v4()),
        owner_id: Set(owner),
        parent_id: Set(Some(parent)),
        name: Set(name.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
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

/// The folder at `dirs` below `base`, creating the missing ones (folder uploads keep their tree).
pub async fn ensure_path(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    base: folders::Model,
    dirs: &[FileName],
) -> Result<folders::Model, AppError> {
    let mut folder = base;
    for name in dirs {
        folder = match child(db, folder.id, name).await? {
            Some(existing) => existing,
            None => match insert(db, owner.id, folder.id, name).await {
                Ok(created) => created,
                // Another upload of the same tree created it first.
                Err(_) => child(db, folder.id, name).await?.ok_or(AppError::Internal)?,
            },
        };
    }
    Ok(folder)
}

/// Renames and/or moves a folder. The root cannot be changed; a folder cannot move into itself
/// or below itself; names stay unique in the target.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn update_folder(
    state: &AppState,
    owner: &users::Model,
    id: &str,
    name: Option<FileName>,
    parent: Option<&str>,
) -> Result<FolderDto, AppError> {
    let txn = state.db.begin().await?;
    let folder = folder_of(&txn, owner, Some(id)).await?;
    if folder.parent_id.is_none() {
        return Err(AppError::BadRequest("Your root folder cannot be renamed or moved.".into()));
    }
    let target = match parent {
        Some(parent) => folder_of(&txn, owner, Some(parent)).await?,
        None => folder_of(&txn, owner, folder.parent_id.map(|p| p.to_string()).as_deref()).await?,
    };
    if is_within(&txn, target.id, folder.id).await? {
        return Err(AppError::Conflict(
            "A folder cannot be moved into itself or one of its own subfolders.".into(),
        ));
    }
    let name = name.unwrap_or_else(|| FileName::sanitize(&folder.name));
    if let Some(other) = child(&txn, target.id, &name).await?
        && other.id != folder.id
    {
        return Err(name_taken(&name));
    }
    let mut active = folder.into_active_model();
    active.name = Set(name.as_str().to_owned());
    active.parent_id = Set(Some(target.id));
    active.updated_at = Set(Utc::now());
    let updated = active.update(&txn).await.map_err(|_| name_taken(&name))?;
    txn.commit().await?;
    Ok(folder_dto(&updated))
}

/// Whether `folder` is `ancestor` or lies below it.
async fn is_within(
    db: &impl ConnectionTrait,
    folder: Uuid,
    ancestor: Uuid,
) -> Result<bool, AppError> {
    let mut current = Some(folder);
    while let Some(id) = current {
        if id == ancestor {
            return Ok(true);
        }
        current = folders::Entity::find_by_id(id).one(db).await?.and_then(|f| f.parent_id);
    }
    Ok(false)
}

/// Every folder id in the subtree rooted at `folder` (itself included).
pub(crate) async fn subtree(
    db: &impl ConnectionTrait,
    folder: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    let mut all = vec![folder];
    let mut frontier = vec![folder];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for chunk in frontier.chunks(500) {
            let children: Vec<Uuid> = folders::Entity::find()
                .select_only()
                .column(folders::Column::Id)
                .filter(folders::Column::ParentId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(db)
                .await?;
            next.extend(children);
        }
        all.extend(&next);
        frontier = next;
    }
    Ok(all)
}

/// What a recursive delete removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Deleted {
    /// Files removed.
    pub files: u64,
    /// Bytes released from the quota.
    pub bytes: u64,
}

/// Deletes a folder with everything below it; its files' bytes go in the same transaction.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn delete_folder(
    state: &AppState,
    owner: &users::Model,
    id: &str,
) -> Result<Deleted, AppError> {
    let txn = state.db.begin().await?;
    let folder = folder_of(&txn, owner, Some(id)).await?;
    if folder.parent_id.is_none() {
        return Err(AppError::BadRequest("Your root folder cannot be deleted.".into()));
    }
    let ids = subtree(&txn, folder.id).await?;
    let mut keys = Vec::new();
    let mut bytes = 0u64;
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, i64)> = files::Entity::find()
            .select_only()
            .column(files::Column::BlobKey)
            .column(files::Column::Size)
            .filter(files::Column::FolderId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(&txn)
            .await?;
        for (key, size) in rows {
            bytes += u64::try_from(size).unwrap_or(0);
            keys.push(key);
        }
        files::Entity::delete_many()
            .filter(files::Column::FolderId.is_in(chunk.to_vec()))
            .exec(&txn)
            .await?;
    }
    queue_deletions(&txn, keys.clone()).await?;
    // Children first, so no engine has to cascade through the self-reference.
    for chunk in ids.rchunks(500) {
        folders::Entity::delete_many()
            .filter(folders::Column::Id.is_in(chunk.to_vec()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    let files = keys.len() as u64;
    purge_deleted_blobs(state, Some(keys)).await;
    Ok(Deleted { files, bytes })
}

pub(super) fn no_such_folder() -> AppError {
    AppError::NotFound("No such folder. It may have been deleted.".into())
}

fn name_taken(name: &FileName) -> AppError {
    AppError::Conflict(format!(
        "There is already a folder named “{name}” here. Choose another name."
    ))
}
