//! An upload's bytes between requests. On local disk they append to `<data_dir>/uploads/<id>`;
//! on S3 every run of `part size` bytes becomes a part of the multipart upload made at creation,
//! and a request's last bytes short of S3's 5 MiB minimum wait in a small object (the "tail")
//! until the next request: memory stays bounded and any instance can continue.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::record::{Part, parts_of, to_u64};
use crate::AppError;
use crate::entities::uploads;
use crate::storage::{
    BlobKey, BlobStore, ByteRange, LocalStore, PartSender, S3Store, StorageError,
};

/// S3's smallest part (all but the last).
const MIN_PART: usize = 5 << 20;
/// Local writes are gathered to this size.
const WRITE_BUFFER: usize = 1 << 20;

/// Where one request's bytes go.
pub(super) enum Sink {
    Local(BufWriter<File>),
    S3(Box<S3Sink>),
}

/// Parts recorded before this request, the ones it sends, and the bytes not yet making one.
pub(super) struct S3Sink {
    part_size: usize,
    recorded: Vec<Part>,
    sender: PartSender,
    sending: usize,
    buffer: BytesMut,
    store: S3Store,
}

/// What a request's bytes became, to record in the upload.
pub(super) struct Stored {
    pub parts: Vec<Part>,
    pub tail_key: Option<String>,
}

fn stored_key(stored: &str) -> Result<BlobKey, AppError> {
    BlobKey::from_stored(stored).map_err(|err| AppError::internal("upload key", &err))
}

impl Sink {
    /// Continues `upload` at its recorded offset (bytes past it, from a write that was never
    /// recorded, are dropped).
    pub async fn open(storage: &BlobStore, upload: &uploads::Model) -> Result<Self, AppError> {
        match storage {
            BlobStore::Local(store) => {
                let path = store.staging_path(upload.id);
                let mut file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .await
                    .map_err(StorageError::from)?;
                file.set_len(to_u64(upload.received)).await.map_err(StorageError::from)?;
                file.seek(std::io::SeekFrom::End(0)).await.map_err(StorageError::from)?;
                Ok(Self::Local(BufWriter::with_capacity(WRITE_BUFFER, file)))
            }
            BlobStore::S3(store) => {
                let parts = parts_of(upload)?;
                let buffer = match &upload.tail_key {
                    Some(tail) => {
                        BytesMut::from(&read_all(storage, &stored_key(tail)?, None).await?[..])
                    }
                    None => BytesMut::new(),
                };
                let multipart_id = upload.multipart_id.as_deref().ok_or(AppError::Internal)?;
                let first = i32::try_from(parts.len() + 1).map_err(|_| AppError::Internal)?;
                let key = stored_key(&upload.blob_key)?;
                Ok(Self::S3(Box::new(S3Sink {
                    part_size: store.part_size(),
                    recorded: parts,
                    sender: PartSender::new(store, &key, multipart_id, first),
                    sending: 0,
                    buffer,
                    store: store.clone(),
                })))
            }
        }
    }

    /// Takes the next bytes.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        match self {
            Self::Local(file) => Ok(file.write_all(chunk).await?),
            Self::S3(sink) => {
                sink.buffer.extend_from_slice(chunk);
                while sink.buffer.len() >= sink.part_size {
                    let part = sink.buffer.split_to(sink.part_size).freeze();
                    sink.send(part).await?;
                }
                Ok(())
            }
        }
    }

    /// Makes everything written durable; `complete` when these were the upload's last bytes.
    pub async fn flush(self, complete: bool) -> Result<Stored, StorageError> {
        match self {
            Self::Local(mut file) => {
                file.flush().await?;
                file.get_ref().sync_data().await?;
                Ok(Stored { parts: Vec::new(), tail_key: None })
            }
            Self::S3(mut sink) => {
                let rest = sink.buffer.split().freeze();
                let first = sink.recorded.is_empty() && sink.sending == 0;
                let last = complete && (!rest.is_empty() || first);
                let tail = if last || rest.len() >= MIN_PART {
                    sink.send(rest).await?;
                    None
                } else if rest.is_empty() {
                    None
                } else {
                    let key = BlobKey::new_upload_tail();
                    sink.store.put(&key, rest).await?;
                    Some(key.as_string())
                };
                let mut parts = sink.recorded;
                parts.extend(sink.sender.finish().await?);
                Ok(Stored { parts, tail_key: tail })
            }
        }
    }

    /// Drops what this request wrote (refused bytes); the recorded state is untouched, and
    /// the next request starts over from the recorded offset.
    pub async fn discard(self) {
        if let Self::S3(sink) = self {
            // Parts already sent keep numbers past the recorded ones: the next request
            // overwrites them, and completion names only recorded parts.
            sink.sender.cancel().await;
        }
    }
}

impl S3Sink {
    async fn send(&mut self, bytes: Bytes) -> Result<(), StorageError> {
        self.sending += 1;
        self.sender.send(bytes).await
    }
}

/// Turns a complete upload's bytes into the object under its key. Safe to repeat: after a
/// crash between this and the file row, the next attempt finds the object already there.
pub(super) async fn publish(storage: &BlobStore, upload: &uploads::Model) -> Result<(), AppError> {
    let key = stored_key(&upload.blob_key)?;
    match storage {
        BlobStore::Local(store) => publish_local(store, upload, &key).await,
        BlobStore::S3(store) => {
            let parts =
                parts_of(upload)?.into_iter().map(|part| (part.number, part.etag)).collect();
            let multipart_id = upload.multipart_id.as_deref().ok_or(AppError::Internal)?;
            match store.complete_multipart(&key, multipart_id, parts).await {
                Ok(()) => Ok(()),
                Err(err) => match store.size(&key).await? {
                    Some(size) if size == to_u64(upload.length) => Ok(()),
                    _ => Err(if upload.direct {
                        tracing::info!(error = %err, "direct upload parts refused");
                        AppError::BadRequest(
                            "The storage did not accept the parts sent. Start the upload again."
                                .into(),
                        )
                    } else {
                        err.into()
                    }),
                },
            }
        }
    }
}

async fn publish_local(
    store: &LocalStore,
    upload: &uploads::Model,
    key: &BlobKey,
) -> Result<(), AppError> {
    let staged = store.staging_path(upload.id);
    if tokio::fs::try_exists(&staged).await.map_err(StorageError::from)? {
        store.publish(&staged, key).await?;
        Ok(())
    } else if store.exists(key).await? {
        Ok(())
    } else {
        Err(AppError::internal("upload bytes missing", &StorageError::NotFound))
    }
}

/// The object's first `want` bytes (to detect its type).
pub(super) async fn head(
    storage: &BlobStore,
    key: &BlobKey,
    length: u64,
    want: usize,
) -> Result<Vec<u8>, AppError> {
    let end = length.min(want as u64);
    if end == 0 {
        return Ok(Vec::new());
    }
    read_all(storage, key, Some(ByteRange { start: 0, end: end - 1 })).await
}

/// A small object (or range) read whole into memory.
async fn read_all(
    storage: &BlobStore,
    key: &BlobKey,
    range: Option<ByteRange>,
) -> Result<Vec<u8>, AppError> {
    let mut stream = storage.read(key, range).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.map_err(StorageError::from)?);
    }
    Ok(bytes)
}

/// Removes every byte an unfinished upload stored (cancelled or expired). Errors are logged:
/// local leftovers are swept with the stale temp files, S3 ones with stale multipart uploads.
pub(super) async fn discard(storage: &BlobStore, upload: &uploads::Model) {
    let result = match storage {
        BlobStore::Local(store) => {
            match tokio::fs::remove_file(store.staging_path(upload.id)).await {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err.into()),
                _ => Ok(()),
            }
        }
        BlobStore::S3(store) => {
            if let (Ok(key), Some(id)) = (stored_key(&upload.blob_key), &upload.multipart_id) {
                store.abort_multipart(&key, id).await;
            }
            match upload.tail_key.as_deref().map(BlobKey::from_stored) {
                Some(Ok(tail)) => storage.delete(&tail).await,
                _ => Ok(()),
            }
        }
    };
    if let Err(err) = result {
        tracing::warn!(error = %err, upload = %upload.id, "could not remove an upload's bytes");
    }
}
