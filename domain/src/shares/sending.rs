//! Visitors' uploads in progress through a file request, as its owner sees them: each holds a
//! place and space of the owner's until it finishes or idles out (30 minutes), and the owner
//! can end one at once.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::SendingDto;
use crate::AppError;
use crate::entities::{uploads, users};
use crate::ids::UploadId;
use crate::state::AppState;

/// The uploads in progress through link `share`, oldest first.
pub(super) async fn in_progress(
    db: &impl ConnectionTrait,
    share: Uuid,
) -> Result<Vec<SendingDto>, AppError> {
    let rows = uploads::Entity::find()
        .filter(uploads::Column::ShareId.eq(share))
        .filter(uploads::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(uploads::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| SendingDto {
            id: row.id.into(),
            name: row.name,
            received: u64::try_from(row.received).unwrap_or(0),
            length: u64::try_from(row.length).unwrap_or(0),
            expires_at: row.expires_at.to_rfc3339(),
        })
        .collect())
}

/// Ends the owner's visitor upload `id` now: its bytes go and its place and space are free.
#[tracing::instrument(skip_all, fields(owner = %owner.id))]
pub async fn cancel_sending(
    state: &AppState,
    owner: &users::Model,
    id: UploadId,
) -> Result<(), AppError> {
    let gone = || AppError::NotFound("No such upload in progress; it may have ended.".into());
    let upload = uploads::Entity::find_by_id(id.uuid())
        .filter(uploads::Column::OwnerId.eq(owner.id))
        .filter(uploads::Column::ShareId.is_not_null())
        .one(&state.db)
        .await?
        .ok_or_else(gone)?;
    let removed = uploads::Entity::delete_by_id(upload.id).exec(&state.db).await?;
    if removed.rows_affected == 1 {
        crate::uploads::discard_all(&state.storage, std::slice::from_ref(&upload)).await;
    }
    Ok(())
}
