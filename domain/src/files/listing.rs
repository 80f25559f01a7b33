//! Reading the tree: one page of a folder (folders first, then files, in the chosen order),
//! a file with its path, every folder for move pickers.

use std::sync::Arc;

use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::folders::{folder_of, no_such_folder};
use super::quota::{no_such_file, quota_of, usage};
use super::tree::MAX_DEPTH;
use super::{
    FileDetail, FileDto, FolderDto, FolderListing, ListQuery, Neighbours, Preview, SortKey,
};
use crate::entities::{files, folders, users};
use crate::ids::{FileId, FolderId, FolderRef};
use crate::state::AppState;
use crate::{AppError, cache};

pub(crate) fn folder_dto(folder: &folders::Model) -> FolderDto {
    FolderDto {
        id: folder.id.into(),
        parent_id: folder.parent_id.map(Into::into),
        name: folder.name.clone(),
        created_at: folder.created_at.to_rfc3339(),
    }
}

pub(crate) fn file_dto(file: &files::Model) -> FileDto {
    FileDto {
        id: file.id.into(),
        folder_id: file.folder_id.into(),
        name: file.name.clone(),
        size: u64::try_from(file.size).unwrap_or(0),
        content_type: file.content_type.clone(),
        sha256: file.sha256.clone(),
        description: file.description.clone(),
        created_at: file.created_at.to_rfc3339(),
        updated_at: file.updated_at.to_rfc3339(),
        media: None,
    }
}

/// [`file_dto`]s of `files` with what previews found.
pub(crate) async fn file_dtos(
    db: &impl ConnectionTrait,
    files: &[files::Model],
) -> Result<Vec<FileDto>, AppError> {
    let kinds = files.iter().map(|file| (file.id, file.content_type.as_str()));
    let media = crate::media::media_of(db, kinds).await?;
    Ok(files
        .iter()
        .map(|file| FileDto {
            media: media.get(&file.id).map(crate::media::media_dto),
            ..file_dto(file)
        })
        .collect())
}

/// One page of the owner's folder, as `query` asks: from the cache while the owner's tree is
/// unchanged ([`cache`]), else read.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn list_folder(
    state: &AppState,
    owner: &users::Model,
    folder: FolderRef,
    query: &ListQuery,
) -> Result<FolderListing, AppError> {
    let generation = cache::tree_generation(owner.id);
    let read = state.read(Some(owner.id), |state| async move {
        read_folder(&state, owner, folder, query).await.map(Arc::new)
    });
    let cached = cache::listing(owner.id, generation, folder, *query, read).await?;
    let mut listing = FolderListing::clone(&cached);
    // The quota is the account's, not the tree's: as the caller's row has it now.
    listing.usage.quota = quota_of(state, owner);
    Ok(listing)
}

/// [`list_folder`] as the REST API sends it: serialized once per change, not per request.
pub async fn list_folder_json(
    state: &AppState,
    owner: &users::Model,
    folder: FolderRef,
    query: &ListQuery,
) -> Result<bytes::Bytes, AppError> {
    // Read before the listing: if the tree changes meanwhile, what is kept is never used.
    let version = (cache::tree_generation(owner.id), quota_of(state, owner));
    if let Some(json) = cache::listing_json(owner.id, folder, *query, version) {
        return Ok(json);
    }
    let listing = list_folder(state, owner, folder, query).await?;
    let json = serde_json::to_vec(&listing).map_err(|_| AppError::Internal)?;
    let json = bytes::Bytes::from(json);
    cache::keep_listing_json(owner.id, folder, *query, version, json.clone());
    Ok(json)
}

async fn read_folder(
    state: &AppState,
    owner: &users::Model,
    folder: FolderRef,
    query: &ListQuery,
) -> Result<FolderListing, AppError> {
    let db = &state.db;
    let folder = folder_of(db, owner, folder).await?;
    let offset = u64::from(query.cursor.unwrap_or(0));
    let (sort, limit) = (query.sort, query.limit.get());
    let order = if query.descending() { Order::Desc } else { Order::Asc };
    let child_folders = folders::Entity::find().filter(folders::Column::ParentId.eq(folder.id));
    let child_files = files::Entity::find().filter(files::Column::FolderId.eq(folder.id));
    let folder_count = child_folders.clone().count(db).await?;
    let file_count = child_files.clone().count(db).await?;
    if offset > folder_count + file_count {
        // Only cursors this function handed out are valid; a huge one must never reach SQL.
        return Err(AppError::BadRequest("That page cursor is past the end of the folder.".into()));
    }

    let folders = if offset < folder_count {
        let by: Expr = match sort {
            SortKey::Date => Expr::col(folders::Column::CreatedAt),
            SortKey::Name | SortKey::Size => Func::lower(Expr::col(folders::Column::Name)).into(),
        };
        // Ties broken by id, so pages never skip or repeat rows.
        child_folders
            .order_by(by, order.clone())
            .order_by_asc(folders::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    let room = limit - folders.len() as u64;
    let files = if room > 0 {
        let by: Expr = match sort {
            SortKey::Date => Expr::col(files::Column::CreatedAt),
            SortKey::Size => Expr::col(files::Column::Size),
            SortKey::Name => Func::lower(Expr::col(files::Column::Name)).into(),
        };
        child_files
            .order_by(by, order)
            .order_by_asc(files::Column::Name)
            .order_by_asc(files::Column::Id)
            .offset(offset.saturating_sub(folder_count))
            .limit(room)
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    let total = folder_count + file_count;
    let shown = offset + folders.len() as u64 + files.len() as u64;
    Ok(FolderListing {
        path: ancestors(db, &folder).await?,
        folder: folder_dto(&folder),
        folders: folders.iter().map(folder_dto).collect(),
        files: file_dtos(db, &files).await?,
        total,
        next_cursor: (shown < total).then(|| shown.to_string()),
        usage: usage(state, owner).await?,
    })
}

/// The folders from the root down to `folder`'s parent.
async fn ancestors(
    db: &impl ConnectionTrait,
    folder: &folders::Model,
) -> Result<Vec<FolderDto>, AppError> {
    Ok(super::tree::ancestors(db, folder).await?.iter().rev().map(folder_dto).collect())
}

/// The owner's file `id` to read its bytes: from the cache while the owner's tree is
/// unchanged ([`cache`]). Anyone else's is 404.
pub async fn file_to_read(
    state: &AppState,
    owner: &users::Model,
    id: FileId,
) -> Result<files::Model, AppError> {
    let generation = cache::tree_generation(owner.id);
    let read =
        state.read(Some(owner.id), |state| async move { get_file(&state.db, owner, id).await });
    cache::file(owner.id, id.uuid(), generation, read).await
}

/// The owner's file `id`; anyone else's is 404 (not 403: no confirming it exists).
pub async fn get_file(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    id: FileId,
) -> Result<files::Model, AppError> {
    files::Entity::find_by_id(id.uuid())
        .filter(files::Column::OwnerId.eq(owner.id))
        .one(db)
        .await?
        .ok_or_else(no_such_file)
}

/// A file with the path to it and how it can be previewed.
pub async fn file_detail(
    state: &AppState,
    owner: &users::Model,
    id: FileId,
) -> Result<FileDetail, AppError> {
    let file = get_file(&state.db, owner, id).await?;
    let folder = folders::Entity::find_by_id(file.folder_id)
        .one(&state.db)
        .await?
        .ok_or_else(no_such_folder)?;
    let mut path = ancestors(&state.db, &folder).await?;
    path.push(folder_dto(&folder));
    let file_dto = file_dtos(&state.db, std::slice::from_ref(&file)).await?.pop();
    let file_dto = file_dto.ok_or(AppError::Internal)?;
    Ok(FileDetail { preview: Preview::of(&file.content_type), file: file_dto, path })
}

/// The files before and after file `id` in its folder, in the list's name order (names
/// without regard to case, then ids), for the file page's previous and next.
pub async fn neighbours(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    id: FileId,
) -> Result<Neighbours, AppError> {
    let file = get_file(db, owner, id).await?;
    let name = || Func::lower(Expr::col(files::Column::Name));
    let here = Func::lower(Expr::val(file.name.clone()));
    let side = |before: bool| {
        let (order, beyond) = if before {
            (Order::Desc, BinOper::SmallerThan)
        } else {
            (Order::Asc, BinOper::GreaterThan)
        };
        let past_name = Expr::expr(name()).binary(beyond, here.clone());
        let past_id = Expr::expr(name())
            .eq(here.clone())
            .and(Expr::col(files::Column::Id).binary(beyond, file.id));
        files::Entity::find()
            .select_only()
            .column(files::Column::Id)
            .column(files::Column::Name)
            .filter(files::Column::OwnerId.eq(owner.id))
            .filter(files::Column::FolderId.eq(file.folder_id))
            .filter(past_name.or(past_id))
            .order_by(name(), order.clone())
            .order_by(files::Column::Id, order)
            .into_tuple::<(Uuid, String)>()
            .one(db)
    };
    let (previous, next) = tokio::try_join!(side(true), side(false))?;
    let link = |row: Option<(Uuid, String)>| row.map(|(id, name)| (FileId::from(id), name));
    Ok(Neighbours { previous: link(previous), next: link(next) })
}

/// Every folder of the owner as `(id, "/a/b")`, sorted by path (for "move to" pickers).
pub async fn all_folders(
    db: &impl ConnectionTrait,
    owner: &users::Model,
) -> Result<Vec<(FolderId, String)>, AppError> {
    let rows =
        folders::Entity::find().filter(folders::Column::OwnerId.eq(owner.id)).all(db).await?;
    let by_id: std::collections::HashMap<Uuid, &folders::Model> =
        rows.iter().map(|f| (f.id, f)).collect();
    let mut paths: Vec<(FolderId, String)> = rows
        .iter()
        .map(|folder| {
            let mut parts = Vec::new();
            let mut current = Some(folder);
            while let Some(f) =
                current.filter(|f| f.parent_id.is_some() && parts.len() <= MAX_DEPTH)
            {
                parts.push(f.name.as_str());
                current = f.parent_id.and_then(|p| by_id.get(&p).copied());
            }
            parts.reverse();
            (folder.id.into(), format!("/{}", parts.join("/")))
        })
        .collect();
    paths.sort_by_key(|(_, path)| path.to_lowercase());
    Ok(paths)
}
