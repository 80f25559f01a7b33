//! Changing one file: its name, its folder, its description.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set,
};

use super::folders::folder_of;
use super::listing::{file_dto, get_file};
use super::{FileDto, FileName};
use crate::AppError;
use crate::entities::{files, users};
use crate::ids::{FileId, FolderRef};
use crate::state::AppState;

/// Renames, moves and/or describes a file. A taken name in the target folder is a 409.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn update_file(
    state: &AppState,
    owner: &users::Model,
    id: FileId,
    name: Option<FileName>,
    folder: Option<FolderRef>,
    description: Option<String>,
) -> Result<FileDto, AppError> {
    let updated = update_file_in(&state.db, owner, id, name, folder, description).await?;
    Ok(file_dto(&updated))
}

/// [`update_file`] on `db` (the caller's transaction, for a selection moved at once).
pub(super) async fn update_file_in(
    db: &impl ConnectionTrait,
    owner: &users::Model,
    id: FileId,
    name: Option<FileName>,
    folder: Option<FolderRef>,
    description: Option<String>,
) -> Result<files::Model, AppError> {
    let file = get_file(db, owner, id).await?;
    let folder = match folder {
        Some(target) => folder_of(db, owner, target).await?.id,
        None => file.folder_id,
    };
    let name = name.map_or_else(|| file.name.clone(), |n| n.as_str().to_owned());
    let clash = files::Entity::find()
        .filter(files::Column::FolderId.eq(folder))
        .filter(files::Column::Name.eq(&name))
        .filter(files::Column::Id.ne(file.id))
        .count(db)
        .await?;
    let taken = || {
        AppError::Conflict(format!(
            "There is already a file named “{name}” there. Choose another name."
        ))
    };
    if clash > 0 {
        return Err(taken());
    }
    let description = match description {
        Some(text) if text.chars().count() > 2000 => {
            return Err(AppError::invalid(
                "description",
                "Keep the description under 2,000 characters.",
            ));
        }
        Some(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
        None => file.description.clone(),
    };
    let mut active = file.into_active_model();
    active.name = Set(name.clone());
    active.folder_id = Set(folder);
    active.description = Set(description);
    active.updated_at = Set(Utc::now());
    let updated = active.update(db).await.map_err(|_| taken())?;
    crate::cache::tree_changed(owner.id);
    Ok(updated)
}
