//! Profile pictures: a small image per account, kept in the same blob store as files (under
//! `avatars/`), outside the file quota. Only PNG, JPEG, GIF and WebP, detected from the bytes.

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set, TransactionTrait};

use super::quota::{purge_deleted_blobs, queue_deletions};
use crate::AppError;
use crate::entities::users;
use crate::state::AppState;
use crate::storage::BlobKey;

/// The largest profile picture accepted.
pub const MAX_AVATAR_BYTES: usize = 5 << 20;
const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Replaces the account's picture with `body` (the old one's bytes are deleted).
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn set_avatar<S, E>(
    state: &AppState,
    user: &users::Model,
    body: S,
) -> Result<(), AppError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut bytes = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|_| AppError::BadRequest("The upload was interrupted. Try again.".into()))?;
        if bytes.len() + chunk.len() > MAX_AVATAR_BYTES {
            return Err(AppError::TooLarge("A profile picture can be at most 5 MB.".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    image_type(&bytes)?;
    let key = BlobKey::new_avatar();
    let mut writer = state.storage.writer(&key).await?;
    writer.write(bytes.freeze()).await?;
    writer.finish().await?;
    let saved = async {
        let txn = state.db.begin().await?;
        queue_deletions(&txn, user.avatar_key.clone()).await?;
        let mut active = user.clone().into_active_model();
        active.avatar_key = Set(Some(key.as_string()));
        active.update(&txn).await?;
        txn.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(err) = saved {
        let _ = state.storage.delete(&key).await;
        return Err(err);
    }
    purge_deleted_blobs(state, user.avatar_key.clone().map(|k| vec![k])).await;
    Ok(())
}

/// Removes the account's picture.
pub async fn remove_avatar(state: &AppState, user: &users::Model) -> Result<(), AppError> {
    let Some(old) = user.avatar_key.clone() else { return Ok(()) };
    let txn = state.db.begin().await?;
    queue_deletions(&txn, [old.clone()]).await?;
    let mut active = user.clone().into_active_model();
    active.avatar_key = Set(None);
    active.update(&txn).await?;
    txn.commit().await?;
    purge_deleted_blobs(state, Some(vec![old])).await;
    Ok(())
}

/// The account's picture and its type, or 404.
pub async fn avatar(
    state: &AppState,
    user: &users::Model,
) -> Result<(Bytes, &'static str), AppError> {
    let missing = || AppError::NotFound("No profile picture yet.".into());
    let key = BlobKey::from_stored(user.avatar_key.as_deref().ok_or_else(missing)?)?;
    let mut stream = state.storage.read(&key, None).await?;
    let mut bytes = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(
            &chunk.map_err(|err| AppError::internal("reading an avatar", &err))?,
        );
    }
    let bytes = bytes.freeze();
    let kind = image_type(&bytes)?;
    Ok((bytes, kind))
}

fn image_type(bytes: &[u8]) -> Result<&'static str, AppError> {
    let detected = infer::get(bytes).map(|kind| kind.mime_type());
    IMAGE_TYPES
        .into_iter()
        .find(|t| Some(*t) == detected)
        .ok_or_else(|| AppError::invalid("avatar", "Choose a PNG, JPEG, GIF or WebP image."))
}
