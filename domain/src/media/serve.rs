//! Reading what previews made: the `media` rows beside a listing, a file's thumbnail bytes,
//! and the backfill of files uploaded before previews existed.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{MediaDto, MediaKind, ThumbSize};
use crate::entities::{files, media};
use crate::ids::FileId;
use crate::jobs::{Task, enqueue};
use crate::state::AppState;
use crate::storage::{BlobKey, BlobStream};
use crate::{AppError, entities::users};

/// A thumbnail to send: its bytes, type and validator. It never changes for its file (a
/// file's bytes never do), so it may be cached for good.
pub struct Thumbnail {
    /// The bytes.
    pub stream: BlobStream,
    /// `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// A strong validator.
    pub etag: String,
}

/// As sent.
pub fn media_dto(row: &media::Model) -> MediaDto {
    let positive = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
    MediaDto {
        kind: row.kind.clone(),
        width: positive(row.width),
        height: positive(row.height),
        duration_ms: row.duration_ms.and_then(|ms| u64::try_from(ms).ok()),
        thumbnail: row.thumb_type.is_some(),
        large: row.large,
        placeholder: row.placeholder.clone(),
        taken_at: row.taken_at.map(|at| at.to_rfc3339()),
        camera: row.camera.clone(),
        error: row.error.clone(),
    }
}

/// The media rows of the media files among `files` (`(id, content type)`), keyed by file id;
/// no query when none is media.
pub async fn media_of<'a>(
    db: &impl ConnectionTrait,
    files: impl IntoIterator<Item = (Uuid, &'a str)>,
) -> Result<HashMap<Uuid, media::Model>, AppError> {
    let ids: Vec<Uuid> = files
        .into_iter()
        .filter(|(_, content_type)| MediaKind::of(content_type).is_some())
        .map(|(id, _)| id)
        .collect();
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = media::Entity::find()
            .filter(media::Column::FileId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|row| (row.file_id, row)));
    }
    Ok(found)
}

/// The owner's file `id`'s thumbnail (404 for anyone else's file, and while there is none).
pub async fn owner_thumbnail(
    state: &AppState,
    owner: &users::Model,
    id: FileId,
    size: ThumbSize,
) -> Result<Thumbnail, AppError> {
    let file = crate::files::file_to_read(state, owner, id).await?;
    open_thumbnail(state, &file, size).await
}

/// The thumbnail of `file` (already authorized); the small one when a large is asked for and
/// the picture is no larger than the small.
pub async fn open_thumbnail(
    state: &AppState,
    file: &files::Model,
    size: ThumbSize,
) -> Result<Thumbnail, AppError> {
    let none = || AppError::NotFound("This file has no thumbnail (yet).".into());
    let row = media::Entity::find_by_id(file.id).one(&state.db).await?.ok_or_else(none)?;
    let content_type = row.thumb_type.clone().ok_or_else(none)?;
    let size = if row.large { size } else { ThumbSize::Small };
    let key = BlobKey::from_stored(&file.blob_key)?.thumbnail(size);
    let stream = match state.storage.read(&key, None).await {
        Ok(stream) => stream,
        Err(crate::storage::StorageError::NotFound) => return Err(none()),
        Err(err) => return Err(err.into()),
    };
    let tag = if size == ThumbSize::Large { "l" } else { "s" };
    Ok(Thumbnail {
        stream,
        content_type,
        etag: format!("\"{}-{tag}\"", &file.sha256[..16.min(file.sha256.len())]),
    })
}

/// Queues previews for every media file that has none and no job (files uploaded before
/// previews existed, or while a tool was missing). Returns how many were queued.
pub async fn backfill(state: &AppState) -> Result<u64, AppError> {
    let mut queued = 0;
    let mut after = Uuid::nil();
    loop {
        let page: Vec<(Uuid, String)> = files::Entity::find()
            .select_only()
            .column(files::Column::Id)
            .column(files::Column::ContentType)
            .filter(files::Column::Id.gt(after))
            .order_by_asc(files::Column::Id)
            .limit(500)
            .into_tuple()
            .all(&state.db)
            .await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        let have = media_of(&state.db, page.iter().map(|(id, kind)| (*id, kind.as_str()))).await?;
        for (id, content_type) in page {
            if MediaKind::of(&content_type).is_some() && !have.contains_key(&id) {
                enqueue(&state.db, &Task::Previews { file: id }).await?;
                queued += 1;
            }
        }
    }
    crate::jobs::poke();
    Ok(queued)
}
