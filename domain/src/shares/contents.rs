//! What a link shows: its files (a selection, or everything below a shared folder, with paths
//! relative to it), the public page's data (or a file request's), one file's bytes, the zip of
//! everything. Every function here starts with the policy's [`authorize`].

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::links::selection;
use super::policy::{Action, FileRequest, authorize};
use super::zip::{ZipEntry, ZipPlan};
use crate::auth::ClientInfo;
use crate::entities::{files, folders, share_files, shares};
use crate::files::{Content, MAX_DEPTH, ancestors, content_of, subtree};
use crate::ids::FileId;
use crate::state::AppState;
use crate::storage::BlobKey;
use crate::{AppError, cache};

/// A file of a link, with its place below the shared folder.
#[derive(Debug, Clone)]
pub struct SharedFile {
    /// `sub/folder/name.ext`, or the name.
    pub path: String,
    /// The file.
    pub model: files::Model,
}

/// The files link `share` gives access to, sorted by path.
pub(super) async fn shared_files(
    state: &AppState,
    share: &shares::Model,
) -> Result<Vec<SharedFile>, AppError> {
    let mut shared = match share.folder_id {
        None => {
            let ids = selection(&state.db, share.id).await?;
            files::Entity::find()
                .filter(files::Column::Id.is_in(ids))
                .filter(files::Column::OwnerId.eq(share.owner_id))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|model| SharedFile { path: model.name.clone(), model })
                .collect()
        }
        Some(folder) => folder_files(state, folder).await?,
    };
    shared.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(shared)
}

/// File `id` if link `share` gives access to it (in its selection, or anywhere below its
/// folder), with its path below the shared folder.
pub(super) async fn shared_file(
    state: &AppState,
    share: &shares::Model,
    id: FileId,
) -> Result<Option<SharedFile>, AppError> {
    let version = (cache::shares_epoch(), cache::tree_generation(share.owner_id));
    if let Some(found) = cache::shared_file(share.id, id.uuid(), version) {
        return Ok(found);
    }
    let found = state
        .read(Some(share.owner_id), |state| async move {
            find_shared_file(&state, share, id.uuid()).await
        })
        .await?;
    cache::keep_shared_file(share.id, id.uuid(), version, found.clone());
    Ok(found)
}

async fn find_shared_file(
    state: &AppState,
    share: &shares::Model,
    id: Uuid,
) -> Result<Option<SharedFile>, AppError> {
    let model = files::Entity::find_by_id(id)
        .filter(files::Column::OwnerId.eq(share.owner_id))
        .one(&state.db)
        .await?;
    let Some(model) = model else { return Ok(None) };
    let Some(root) = share.folder_id else {
        let listed = share_files::Entity::find_by_id((share.id, id)).one(&state.db).await?;
        return Ok(listed.map(|_| SharedFile { path: model.name.clone(), model }));
    };
    // Up from the file's folder to the shared one; not meeting it means outside it.
    let Some(folder) = folders::Entity::find_by_id(model.folder_id).one(&state.db).await? else {
        return Ok(None);
    };
    let mut chain = vec![folder.clone()];
    chain.extend(ancestors(&state.db, &folder).await?);
    let Some(shared) = chain.iter().position(|dir| dir.id == root) else { return Ok(None) };
    let mut parts: Vec<String> = chain[..shared].iter().rev().map(|dir| dir.name.clone()).collect();
    parts.push(model.name.clone());
    Ok(Some(SharedFile { path: parts.join("/"), model }))
}

async fn folder_files(state: &AppState, root: Uuid) -> Result<Vec<SharedFile>, AppError> {
    let paths = folder_paths(state, root).await?;
    let ids: Vec<Uuid> = paths.keys().copied().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(500) {
        let rows = files::Entity::find()
            .filter(files::Column::FolderId.is_in(chunk.to_vec()))
            .all(&state.db)
            .await?;
        found.extend(rows.into_iter().map(|model| SharedFile {
            path: path_in(paths.get(&model.folder_id).map_or("", String::as_str), &model.name),
            model,
        }));
    }
    Ok(found)
}

/// Every folder of the subtree below the shared folder `root`, with its path relative to it
/// (`""` for `root` itself): nothing above the shared folder is ever shown.
pub(super) async fn folder_paths(
    state: &AppState,
    root: Uuid,
) -> Result<HashMap<Uuid, String>, AppError> {
    let (ids, _) = subtree(&state.db, root).await?;
    let mut dirs: HashMap<Uuid, (Option<Uuid>, String)> = HashMap::new();
    for chunk in ids.chunks(500) {
        for folder in folders::Entity::find()
            .filter(folders::Column::Id.is_in(chunk.to_vec()))
            .all(&state.db)
            .await?
        {
            dirs.insert(folder.id, (folder.parent_id, folder.name));
        }
    }
    let path_of = |mut folder: Uuid| {
        let mut parts = Vec::new();
        while folder != root && parts.len() <= MAX_DEPTH {
            let Some((parent, name)) = dirs.get(&folder) else { break };
            parts.push(name.as_str());
            let Some(parent) = parent else { break };
            folder = *parent;
        }
        parts.reverse();
        parts.join("/")
    };
    Ok(ids.iter().map(|id| (*id, path_of(*id))).collect())
}

/// `dir/name`, or `name` at the top.
pub(super) fn path_in(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }
}

/// One file of link `slug` as `ask` wants it, and a new transfer cookie's value when the
/// access counted a limited link's download (see the policy for what counts).
pub async fn open_shared_file(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    client: &ClientInfo,
    ask: FileRequest,
) -> Result<(Content, Option<String>), AppError> {
    let serve_as = ask.serve_as;
    let grant = authorize(state, slug, unlock, client, Action::File(ask)).await?;
    let file = grant.files.first().ok_or(AppError::Internal)?;
    let content = content_of(state, &file.model, serve_as, Some(&grant.share)).await?;
    Ok((content, grant.transfer))
}

/// The thumbnail of one file of link `slug` (never a download: not counted, not logged).
pub async fn open_shared_thumbnail(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    client: &ClientInfo,
    id: crate::ids::FileId,
    size: crate::media::ThumbSize,
) -> Result<crate::media::Thumbnail, AppError> {
    let grant = authorize(state, slug, unlock, client, Action::Thumbnail(id)).await?;
    let file = grant.files.first().ok_or(AppError::Internal)?;
    crate::media::open_thumbnail(state, &file.model, size).await
}

/// The zip of every file of link `slug` and its file name.
pub async fn shared_zip(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    client: &ClientInfo,
) -> Result<(ZipPlan, String), AppError> {
    let grant = authorize(state, slug, unlock, client, Action::Zip).await?;
    let entries = grant
        .files
        .iter()
        .map(|file| {
            Ok(ZipEntry {
                name: file.path.clone(),
                size: u64::try_from(file.model.size).unwrap_or(0),
                modified: file.model.created_at,
                key: BlobKey::from_stored(&file.model.blob_key)?,
            })
        })
        .collect::<Result<Vec<_>, crate::storage::StorageError>>()?;
    let name = grant.share.label.clone().unwrap_or_else(|| "shared-files".into());
    Ok((ZipPlan::new(entries), format!("{name}.zip")))
}
