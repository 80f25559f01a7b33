//! Server functions behind the file browser and the file page. Uploads and downloads are plain
//! axum routes under `/api/v1/files` (streaming, with their own limits), not server fns.

use domain::AppError;
use domain::files::{FileDetail, FolderPage, ListQuery};
use domain::ids::{FileId, FolderId, FolderRef};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::edge::{require_identity, state};

/// One page of a folder, as the browser page shows it.
#[server(endpoint = "list_folder")]
pub async fn list_folder(folder: FolderRef, query: ListQuery) -> Result<FolderPage, AppError> {
    let identity = require_identity()?;
    Ok(domain::files::list_folder(&state()?, &identity.user, folder, &query).await?.into())
}

/// Everything the file page needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePageData {
    /// The file, its path and its preview kind.
    pub detail: FileDetail,
    /// The start of the text, for text files, as the page shows it.
    pub text: Option<domain::files::TextView>,
    /// The files before and after it in its folder.
    pub neighbours: domain::files::Neighbours,
    /// Every folder as `(id, path)`, for "move to".
    pub folders: Vec<(FolderId, String)>,
    /// The owner's links that show it (naming it, or to a folder it is in).
    pub links: Vec<domain::shares::ShareDto>,
}

/// The file page's data.
#[server(endpoint = "file_page")]
pub async fn file_page(id: FileId) -> Result<FilePageData, AppError> {
    let identity = require_identity()?;
    let state = state()?;
    let detail = domain::files::file_detail(&state, &identity.user, id).await?;
    let text = if detail.preview == domain::files::Preview::Text {
        let text = domain::files::read_text_preview(&state, &identity.user, id).await?;
        Some(domain::files::text_view(&detail.file.name, &detail.file.content_type, text))
    } else {
        None
    };
    let folders = domain::files::all_folders(&state.db, &identity.user).await?;
    let neighbours = domain::files::neighbours(&state.db, &identity.user, id).await?;
    let links = domain::shares::for_file(&state, &identity.user, id).await?;
    Ok(FilePageData { detail, text, neighbours, folders, links })
}

/// Every folder of the caller as `(id, path)`, for "move to" pickers.
#[server(endpoint = "folder_choices")]
pub async fn folder_choices() -> Result<Vec<(FolderId, String)>, AppError> {
    let identity = require_identity()?;
    domain::files::all_folders(&state()?.db, &identity.user).await
}

/// Creates a folder in `parent_id` (empty: the root).
#[server(endpoint = "create_folder")]
pub async fn create_folder(parent_id: FolderRef, name: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let name = domain::files::FileName::parse(&name)?;
    domain::files::create_folder(&state()?, &identity.user, parent_id, &name).await?;
    Ok(())
}

/// Renames a file or folder (`kind`: `file` | `folder`).
#[server(endpoint = "rename_item")]
pub async fn rename_item(kind: String, id: String, name: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let state = state()?;
    let name = domain::files::FileName::parse(&name)?;
    if kind == "folder" {
        let id = id.parse()?;
        domain::files::update_folder(&state, &identity.user, id, Some(name), None).await.map(drop)
    } else {
        let id = id.parse()?;
        domain::files::update_file(&state, &identity.user, id, Some(name), None, None)
            .await
            .map(drop)
    }
}

/// Sets a file's description (empty clears it).
#[server(endpoint = "describe_file")]
pub async fn describe_file(id: FileId, description: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    domain::files::update_file(&state()?, &identity.user, id, None, None, Some(description))
        .await?;
    Ok(())
}

/// Moves files and folders (comma-separated ids) into `target` (empty: the root).
#[server(endpoint = "move_items")]
pub async fn move_items(files: String, folders: String, target: FolderRef) -> Result<(), AppError> {
    let identity = require_identity()?;
    let (files, folders) = (FileId::parse_list(&files)?, FolderId::parse_list(&folders)?);
    domain::files::move_items(&state()?, &identity.user, &files, &folders, target).await
}

/// How many files and bytes deleting these files and folders (comma-separated ids) would
/// remove: the delete dialog says it before anything goes.
#[server(endpoint = "measure_items")]
pub async fn measure_items(
    files: String,
    folders: String,
) -> Result<domain::files::Deleted, AppError> {
    let identity = require_identity()?;
    let (files, folders) = (FileId::parse_list(&files)?, FolderId::parse_list(&folders)?);
    domain::files::measure_items(&state()?.db, &identity.user, &files, &folders).await
}

/// Deletes files and folders (comma-separated ids; folders with everything in them), then
/// goes to `next` if given (the file page's delete goes back to the folder).
#[server(endpoint = "delete_items")]
pub async fn delete_items(
    files: String,
    folders: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let identity = require_identity()?;
    let (files, folders) = (FileId::parse_list(&files)?, FolderId::parse_list(&folders)?);
    domain::files::delete_items(&state()?, &identity.user, &files, &folders).await?;
    if let Some(next) = next {
        leptos_axum::redirect(&super::safe_next(Some(&next)));
    }
    Ok(())
}
