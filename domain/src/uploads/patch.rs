//! Writing to an upload (tus `PATCH`, and the body of a creation request): bytes at the
//! recorded offset only, never past the length, optionally verified against a checksum; the
//! running SHA-256 is saved with each checkpoint. The last byte completes the file.

use std::fmt::Display;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use sha1::Sha1;
use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use sha2::{Digest, Sha256};

use super::lease::{Checkpoint, Lease};
use super::record::{self, load, status_of, to_u64};
use super::stage::{self, Sink};
use crate::AppError;
use crate::entities::{uploads, users};
use crate::files::{
    self, FileDto, FileName, Received, SNIFF_BYTES, Target, Uploader, Via, committed_bytes,
    file_dto, quota_error, quota_of,
};
use crate::ids::UploadId;
use crate::state::AppState;
use crate::storage::{BlobKey, BlobStore, StorageError};

/// A tus checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// `sha1`.
    Sha1,
    /// `sha256`.
    Sha256,
}

/// `Upload-Checksum: <algorithm> <base64 digest>` of one request's bytes.
#[derive(Debug, Clone)]
pub struct Checksum {
    algorithm: ChecksumAlgorithm,
    expected: Vec<u8>,
}

impl Checksum {
    /// Parses the header; an unknown algorithm or a malformed digest is a 400.
    pub fn parse(header: &str) -> Result<Self, AppError> {
        let (name, digest) = header.trim().split_once(' ').ok_or_else(|| {
            AppError::BadRequest("Upload-Checksum must be “<algorithm> <base64 digest>”.".into())
        })?;
        let algorithm = match name {
            "sha1" => ChecksumAlgorithm::Sha1,
            "sha256" => ChecksumAlgorithm::Sha256,
            _ => {
                return Err(AppError::BadRequest(format!(
                    "Checksum algorithm “{name}” is not supported; use sha1 or sha256."
                )));
            }
        };
        let expected = STANDARD.decode(digest.trim()).map_err(|_| {
            AppError::BadRequest("The Upload-Checksum digest is not valid base64.".into())
        })?;
        Ok(Self { algorithm, expected })
    }
}

enum ChunkHasher {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChunkHasher {
    fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Sha1 => Self::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha1(hasher) => hasher.update(bytes),
            Self::Sha256(hasher) => hasher.update(bytes),
        }
    }

    fn finalize(self) -> Vec<u8> {
        match self {
            Self::Sha1(hasher) => hasher.finalize().to_vec(),
            Self::Sha256(hasher) => hasher.finalize().to_vec(),
        }
    }
}

/// After a write: the new offset, the new expiry, and the file once complete.
#[derive(Debug, Clone)]
pub struct Written {
    /// `Upload-Offset`.
    pub offset: u64,
    /// `Upload-Expires`.
    pub expires_at: DateTime<Utc>,
    /// The file, when these were the last bytes.
    pub file: Option<FileDto>,
}

/// Appends `body` to upload `id` at `offset` (which must be where the upload stands → else
/// 409). Bytes past the length → 413, a checksum mismatch → 460: both keep nothing of this
/// request. A body cut off mid-way keeps what arrived (unless a checksum was sent).
#[tracing::instrument(skip_all, fields(owner = %who.owner().id, upload = %id, offset))]
pub async fn append<S, E>(
    state: &AppState,
    who: &Uploader,
    id: UploadId,
    offset: u64,
    checksum: Option<Checksum>,
    body: S,
) -> Result<Written, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let owner = who.owner();
    let upload = load(&state.db, who, id).await?;
    if upload.direct {
        return Err(AppError::Conflict(
            "This upload sends its parts straight to storage: use its /parts endpoint.".into(),
        ));
    }
    if offset != to_u64(upload.received) {
        return Err(AppError::Conflict(format!(
            "This upload is at byte {}, not {offset}. Ask for its offset (HEAD) and continue \
             from there.",
            upload.received
        )));
    }
    if upload.received == upload.length {
        let file = finish(state, owner, &upload).await?;
        return Ok(written(state, &upload, Some(file)));
    }
    if let Some(quota) = quota_of(state, owner)
        && committed_bytes(&state.db, owner.id).await? > quota
    {
        return Err(quota_error(quota));
    }
    let mut lease = Lease::claim(state, &upload).await?;
    let progress = match receive(state, &upload, &mut lease, checksum, body).await {
        Ok(progress) => progress,
        Err(err) => {
            lease.release(&state.db).await;
            return Err(err);
        }
    };
    let recorded = lease.checkpoint(state, &progress.checkpoint).await;
    let new_tail = progress.checkpoint.tail_key.as_deref();
    if !matches!(recorded, Ok(true)) {
        delete_tail(state, new_tail).await;
        recorded?;
        return Err(AppError::Conflict(
            "This upload changed while these bytes arrived. Ask for its offset (HEAD) and \
             continue from there."
                .into(),
        ));
    }
    if upload.tail_key.as_deref() != new_tail {
        delete_tail(state, upload.tail_key.as_deref()).await;
    }
    if progress.interrupted {
        return Err(AppError::BadRequest(
            "The request ended before all its bytes arrived; what arrived is kept.".into(),
        ));
    }
    let upload = load(&state.db, who, id).await?;
    let file = if upload.received == upload.length {
        Some(finish(state, owner, &upload).await?)
    } else {
        None
    };
    Ok(written(state, &upload, file))
}

fn written(state: &AppState, upload: &uploads::Model, file: Option<FileDto>) -> Written {
    let status = status_of(state, upload, None);
    let offset = if file.is_some() { status.length } else { status.offset };
    Written { offset, expires_at: status.expires_at, file }
}

async fn delete_tail(state: &AppState, tail: Option<&str>) {
    if let Some(Ok(key)) = tail.map(BlobKey::from_stored)
        && let Err(err) = state.storage.delete(&key).await
    {
        tracing::warn!(error = %err, "could not remove an upload's parked bytes");
    }
}

struct Progress {
    checkpoint: Checkpoint,
    interrupted: bool,
}

async fn receive<S, E>(
    state: &AppState,
    upload: &uploads::Model,
    lease: &mut Lease,
    checksum: Option<Checksum>,
    mut body: S,
) -> Result<Progress, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut hasher = restore_hash(upload.hash_state.as_deref())?;
    let mut chunk_hasher = checksum.as_ref().map(|c| ChunkHasher::new(c.algorithm));
    let room = to_u64(upload.length) - to_u64(upload.received);
    let mut sink = Sink::open(&state.storage, upload).await?;
    let mut size = 0u64;
    let mut interrupted = false;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                tracing::info!(error = %err, "upload request interrupted");
                interrupted = true;
                break;
            }
        };
        size += chunk.len() as u64;
        if size > room {
            sink.discard().await;
            return Err(AppError::TooLarge(format!(
                "This upload is {} bytes long; these bytes go past its end.",
                upload.length
            )));
        }
        if let Err(err) = lease.renew_if_due(&state.db).await {
            sink.discard().await;
            return Err(err);
        }
        hasher.update(&chunk);
        if let Some(chunk_hasher) = &mut chunk_hasher {
            chunk_hasher.update(&chunk);
        }
        if let Err(err) = sink.write(&chunk).await {
            sink.discard().await;
            return Err(err.into());
        }
    }
    if let (Some(checksum), Some(chunk_hasher)) = (checksum, chunk_hasher) {
        if interrupted {
            sink.discard().await;
            return Err(AppError::BadRequest(
                "The request ended before all its bytes arrived; send them again.".into(),
            ));
        }
        if chunk_hasher.finalize() != checksum.expected {
            sink.discard().await;
            return Err(AppError::ChecksumMismatch(
                "These bytes do not match their Upload-Checksum; nothing was kept. Send them \
                 again."
                    .into(),
            ));
        }
    }
    let received = to_u64(upload.received) + size;
    if let Err(err) = lease.renew(&state.db).await {
        sink.discard().await;
        return Err(err);
    }
    let stored = sink.flush(received == to_u64(upload.length)).await?;
    let checkpoint = Checkpoint {
        received,
        hash_state: save_hash(&hasher),
        parts: stored.parts,
        tail_key: stored.tail_key,
    };
    Ok(Progress { checkpoint, interrupted })
}

/// Makes the file of an upload whose bytes all arrived: the object appears under its key,
/// then one transaction inserts the file row and removes the upload record. If the file
/// cannot be made (its folder was deleted, the quota shrank), the upload ends and its bytes go;
/// if the database is out of reach, everything stays for the next attempt.
pub(super) async fn finish(
    state: &AppState,
    owner: &users::Model,
    upload: &uploads::Model,
) -> Result<FileDto, AppError> {
    let key =
        BlobKey::from_stored(&upload.blob_key).map_err(|err| AppError::internal("key", &err))?;
    let length = to_u64(upload.length);
    if let Err(err) = stage::publish(&state.storage, upload).await {
        if matches!(err, AppError::BadRequest(_)) && record::forget(&state.db, upload.id).await? {
            stage::discard(&state.storage, upload).await;
        }
        return Err(err);
    }
    if let (true, BlobStore::S3(store)) = (upload.direct, &state.storage) {
        // The client sent these bytes straight to the bucket: trust what is stored, not what it
        // declared. Another length (a part URL abused, a lying client) ends the upload.
        let stored = store.size(&key).await?;
        if stored != Some(length) {
            if record::forget(&state.db, upload.id).await?
                && let Err(delete) = state.storage.delete(&key).await
            {
                tracing::warn!(error = %delete, "could not remove the bytes of a failed upload");
            }
            return Err(AppError::BadRequest(format!(
                "The parts sent hold {} bytes, not the {length} declared; the upload was \
                 discarded. Start it again.",
                stored.unwrap_or(0)
            )));
        }
    }
    let sha256 = match (&upload.hash_state, upload.direct) {
        (Some(state), false) => crate::auth::hex(&restore_hash(Some(state))?.finalize()),
        _ => hash_object(state, &key).await?,
    };
    let head = stage::head(&state.storage, &key, length, SNIFF_BYTES).await?;
    let target = Target {
        folder: upload.folder_id.into(),
        dirs: files::parse_dirs(upload.relative_dir.as_deref())?,
        name: FileName::sanitize(&upload.name),
        via: upload.share_id.map(|share| Via { share, visitor: upload.visitor_hash.clone() }),
        key: None,
    };
    let received = Received { size: length, sha256, head };
    match files::commit(state, owner, &target, &key, &received, Some(upload.id)).await {
        Ok(file) => Ok(file_dto(&file)),
        Err(err @ (AppError::Internal | AppError::Unavailable(_))) => Err(err),
        // Only while the record exists are the bytes this upload's alone: without it, another
        // request completed (or cancelled) the upload meanwhile.
        Err(err) if record::forget(&state.db, upload.id).await? => {
            if let Err(delete) = state.storage.delete(&key).await {
                tracing::warn!(error = %delete, "could not remove the bytes of a failed upload");
            }
            Err(err)
        }
        Err(err) => Err(err),
    }
}

/// SHA-256 of a stored object, read back (direct uploads: the bytes never passed through us).
async fn hash_object(state: &AppState, key: &BlobKey) -> Result<String, AppError> {
    let mut hasher = Sha256::new();
    let mut stream = state.storage.read(key, None).await?;
    while let Some(chunk) = stream.next().await {
        hasher.update(&chunk.map_err(StorageError::from)?);
    }
    Ok(crate::auth::hex(&hasher.finalize()))
}

fn restore_hash(saved: Option<&str>) -> Result<Sha256, AppError> {
    let Some(saved) = saved else { return Ok(Sha256::new()) };
    let damaged = || AppError::internal("hash state", &std::io::Error::other("cannot be read"));
    let bytes = STANDARD.decode(saved).map_err(|_| damaged())?;
    let serialized =
        SerializedState::<Sha256>::try_from(bytes.as_slice()).map_err(|_| damaged())?;
    Sha256::deserialize(&serialized).map_err(|_| damaged())
}

fn save_hash(hasher: &Sha256) -> String {
    STANDARD.encode(hasher.serialize())
}
