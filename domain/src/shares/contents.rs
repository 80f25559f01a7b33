//! What a link shows: its files (a selection, or everything below a shared folder, with paths
//! relative to it), the public page's data (or a file request's), one file's bytes, the zip of
//! everything. Every function here starts with the policy's [`authorize`].

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::links::selection;
use super::policy::{Action, authorize};
use super::requests::public_request;
use super::zip::{ZipEntry, ZipPlan};
use super::{PublicFile, PublicShare, ShareView};
use crate::AppError;
use crate::auth::ClientInfo;
use crate::entities::{files, folders, share_files, shares, users};
use crate::files::{Content, Preview, ServeAs, content_of, subtree};
use crate::state::AppState;
use crate::storage::BlobKey;

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
    id: &str,
) -> Result<Option<SharedFile>, AppError> {
    let Ok(id) = Uuid::parse_str(id) else { return Ok(None) };
    let model = files::Entity::find_by_id(id)
        .filter(files::Column::OwnerId.eq(share.owner_id))
        .one(&state.db)
        .await?;
    let Some(model) = model else { return Ok(None) };
    let Some(root) = share.folder_id else {
        let listed = share_files::Entity::find_by_id((share.id, id)).one(&state.db).await?;
        return Ok(listed.map(|_| SharedFile { path: model.name.clone(), model }));
    };
    // Up from the file's folder to the shared one; reaching the top first means outside it.
    let mut parts = vec![model.name.clone()];
    let mut folder = model.folder_id;
    while folder != root {
        let Some(dir) = folders::Entity::find_by_id(folder).one(&state.db).await? else {
            return Ok(None);
        };
        let Some(parent) = dir.parent_id else { return Ok(None) };
        parts.push(dir.name);
        folder = parent;
    }
    parts.reverse();
    Ok(Some(SharedFile { path: parts.join("/"), model }))
}

async fn folder_files(state: &AppState, root: Uuid) -> Result<Vec<SharedFile>, AppError> {
    let ids = subtree(&state.db, root).await?;
    let mut dirs: HashMap<Uuid, (Option<Uuid>, String)> = HashMap::new();
    let mut found = Vec::new();
    for chunk in ids.chunks(500) {
        for folder in folders::Entity::find()
            .filter(folders::Column::Id.is_in(chunk.to_vec()))
            .all(&state.db)
            .await?
        {
            dirs.insert(folder.id, (folder.parent_id, folder.name));
        }
        found.extend(
            files::Entity::find()
                .filter(files::Column::FolderId.is_in(chunk.to_vec()))
                .all(&state.db)
                .await?,
        );
    }
    // A path runs up to the shared folder and stops there: nothing above it is shown.
    let path_of = |mut folder: Uuid| {
        let mut parts = Vec::new();
        while folder != root {
            let Some((parent, name)) = dirs.get(&folder) else { break };
            parts.push(name.clone());
            let Some(parent) = parent else { break };
            folder = *parent;
        }
        parts.reverse();
        parts
    };
    Ok(found
        .into_iter()
        .map(|model| {
            let mut parts = path_of(model.folder_id);
            parts.push(model.name.clone());
            SharedFile { path: parts.join("/"), model }
        })
        .collect())
}

/// Files on one page of a link.
const PAGE_SIZE: usize = 100;

/// The page of link `slug`: its files (page `page`, from 1), a file request's upload page
/// (with what the visitor holding `visitor`, their session token, sent), or the password form.
pub async fn public_share(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    visitor: Option<&str>,
    client: &ClientInfo,
    error: Option<String>,
    page: usize,
) -> Result<ShareView, AppError> {
    let grant = match authorize(state, slug, unlock, client, Action::View).await {
        Ok(grant) => grant,
        Err(AppError::Unauthorized(_)) => return Ok(ShareView::Locked { error }),
        Err(err) => return Err(err),
    };
    let share = &grant.share;
    if let Some(rules) = &grant.request {
        return Ok(ShareView::Request(public_request(state, share, rules, visitor).await?));
    }
    let owner = users::Entity::find_by_id(share.owner_id).one(&state.db).await?;
    let title = match (&share.label, share.folder_id, grant.files.as_slice()) {
        (Some(label), _, _) => label.clone(),
        (None, Some(folder), _) => folders::Entity::find_by_id(folder)
            .one(&state.db)
            .await?
            .map(|f| f.name)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "Shared files".into()),
        (None, None, [one]) => one.model.name.clone(),
        (None, None, files) => format!("{} files", files.len()),
    };
    let total_size = grant.files.iter().map(|f| u64::try_from(f.model.size).unwrap_or(0)).sum();
    let page_count = grant.files.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, page_count);
    let files: Vec<PublicFile> = grant
        .files
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|file| PublicFile {
            id: file.model.id.to_string(),
            path: file.path.clone(),
            size: u64::try_from(file.model.size).unwrap_or(0),
            preview: Preview::of(&file.model.content_type),
        })
        .collect();
    let link = format!("{}/s/{}", state.config.public_url(), share.slug);
    let qr_svg = qrcode::QrCode::new(link.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(160, 160).build())
        .unwrap_or_default();
    Ok(ShareView::Open(PublicShare {
        qr_svg,
        slug: share.slug.clone(),
        title,
        owner_name: owner.map(|o| o.display_name).unwrap_or_default(),
        total_size,
        file_count: grant.files.len() as u64,
        page,
        page_count,
        files,
        allow_zip: share.allow_zip,
        expires_at: share.expires_at.map(|at| at.to_rfc3339()),
        downloads_left: share
            .max_downloads
            .map(|max| u64::try_from(max - share.downloads).unwrap_or(0)),
    }))
}

/// One file of link `slug`: shown (`ServeAs::View`, not counted) or saved. `first`: a whole
/// transfer or its first range — only these are logged, and a download counts only then.
pub async fn open_shared_file(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    client: &ClientInfo,
    file_id: &str,
    serve_as: ServeAs,
    first: bool,
) -> Result<Content, AppError> {
    let download = first && serve_as == ServeAs::Download;
    let action = Action::File { id: file_id.to_owned(), download, logged: first };
    let grant = authorize(state, slug, unlock, client, action).await?;
    let file = grant.files.first().ok_or(AppError::Internal)?;
    content_of(state, &file.model, serve_as).await
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
