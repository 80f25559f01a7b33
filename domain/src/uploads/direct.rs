//! Direct-to-S3 uploads: the browser `PUT`s each part to a presigned URL, reports the part's
//! `ETag`, and gets the next URL; the server keeps the record and completes the multipart
//! upload after the last part. Parts have the configured part size (the last may be shorter).

use std::time::Duration;

use super::patch::finish;
use super::record::{Part, load, parts_of, record_part, to_u64};
use super::{DirectPart, DirectStep, PartDone};
use crate::AppError;
use crate::files::Uploader;
use crate::ids::UploadId;
use crate::state::AppState;
use crate::storage::{BlobKey, BlobStore};

/// How long a part URL works.
const PART_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Records `done` (if given) and answers with the next part to send, or the finished file.
/// Reporting a part already recorded changes nothing (a retried report).
#[tracing::instrument(skip_all, fields(owner = %who.owner().id, upload = %id))]
pub async fn direct_step(
    state: &AppState,
    who: &Uploader,
    id: UploadId,
    done: Option<PartDone>,
) -> Result<DirectStep, AppError> {
    let mut upload = load(&state.db, who, id).await?;
    let BlobStore::S3(store) = &state.storage else {
        return Err(AppError::Conflict("This upload takes its bytes by PATCH.".into()));
    };
    if !upload.direct {
        return Err(AppError::Conflict("This upload takes its bytes by PATCH.".into()));
    }
    let part_size = store.part_size() as u64;
    let length = to_u64(upload.length);
    let mut parts = parts_of(&upload)?;
    if let Some(done) = done {
        let expected = parts.len() + 1;
        let number = done.number as usize;
        if number > expected || number == 0 {
            return Err(AppError::Conflict(format!(
                "Part {number} cannot be recorded yet: send part {expected} first."
            )));
        }
        if number == expected {
            let start = to_u64(upload.received);
            let size = part_size.min(length - start);
            let etag = done.etag.trim().to_owned();
            if etag.is_empty() || etag.len() > 200 {
                return Err(AppError::BadRequest(
                    "Send the part's ETag as the bucket gave it.".into(),
                ));
            }
            parts.push(Part {
                number: i32::try_from(number).map_err(|_| AppError::Internal)?,
                etag,
                size,
            });
            if !record_part(state, &upload, &parts).await? {
                return Err(AppError::Conflict(
                    "This upload changed meanwhile. Ask again for the next part.".into(),
                ));
            }
            upload = load(&state.db, who, id).await?;
        }
    }
    let offset = to_u64(upload.received);
    if offset == length {
        let file = finish(state, who.owner(), &upload).await?;
        return Ok(DirectStep { offset, next: None, file: Some(file) });
    }
    let number = parts.len() + 1;
    let key =
        BlobKey::from_stored(&upload.blob_key).map_err(|err| AppError::internal("key", &err))?;
    let multipart_id = upload.multipart_id.as_deref().ok_or(AppError::Internal)?;
    let part_number = i32::try_from(number).map_err(|_| AppError::Internal)?;
    let end = (offset + part_size).min(length);
    let url = store
        .presign_part(&key, multipart_id, part_number, end - offset, PART_URL_LIFETIME)
        .await?;
    let next = DirectPart { number: number as u32, url, start: offset, end };
    Ok(DirectStep { offset, next: Some(next), file: None })
}
