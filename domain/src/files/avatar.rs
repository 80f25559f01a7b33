//! Profile pictures: a small image per account, kept in the same blob store as files (under
//! `avatars/`), outside the file quota. PNG, JPEG, GIF or WebP (detected from the bytes) is
//! taken, and what is kept is its centre square, 256 px on a side, re-encoded without its
//! metadata (no camera, place or time from a phone's photo leaks to whoever sees the picture).

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set, TransactionTrait};

use super::quota::{lock_owner, purge_deleted_blobs, queue_deletions};
use crate::AppError;
use crate::entities::users;
use crate::state::AppState;
use crate::storage::BlobKey;

/// The largest profile picture accepted.
pub const MAX_AVATAR_BYTES: usize = 5 << 20;
const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// Pictures being decoded at once.
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

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
    let square = {
        // Decoding is heavy: two at a time in the process, on blocking threads.
        let _turn = DECODES.acquire().await.map_err(|e| AppError::internal("avatar turns", &e))?;
        tokio::task::spawn_blocking(move || crate::media::avatar(&bytes))
            .await
            .map_err(|e| AppError::internal("making an avatar", &e))?
            .map_err(|why| AppError::invalid("avatar", &why.0))?
            .0
    };
    let key = BlobKey::new_avatar();
    let mut writer = state.storage.writer(&key).await?;
    writer.write(Bytes::from(square)).await?;
    writer.finish().await?;
    match swap(state, user, Some(key.as_string())).await {
        Ok(()) => Ok(()),
        Err(err) => {
            // Its row was never written: the bytes are no one's.
            let _ = state.storage.delete(&key).await;
            Err(err)
        }
    }
}

/// Removes the account's picture.
pub async fn remove_avatar(state: &AppState, user: &users::Model) -> Result<(), AppError> {
    swap(state, user, None).await
}

/// Sets the account's picture to `new` and deletes the one it replaces — the one stored now,
/// read under the account's lock, so two changes at once each delete what they replaced and
/// no picture is left without its row.
async fn swap(state: &AppState, user: &users::Model, new: Option<String>) -> Result<(), AppError> {
    let txn = state.db.begin().await?;
    lock_owner(&txn, user.id).await?;
    let current = users::Entity::find_by_id(user.id).one(&txn).await?.ok_or(AppError::Internal)?;
    let old = current.avatar_key.clone();
    queue_deletions(&txn, old.clone()).await?;
    let mut active = current.into_active_model();
    active.avatar_key = Set(new);
    active.update(&txn).await?;
    txn.commit().await?;
    crate::cache::auth_changed(&state.db).await?;
    purge_deleted_blobs(state, old.map(|key| vec![key])).await;
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
