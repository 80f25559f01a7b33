//! Object storage for file bytes: [`BlobStore`] over local disk (the embedded default) or any
//! S3 API. Keys are generated here from random UUIDs, never from user input.

mod local;
mod pack;
mod s3;

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::breaker::Breaker;
use crate::config::{Config, StorageKind};
use crate::state::Check;

pub use local::{LocalStore, LocalWriter};
pub use pack::Span;
pub use s3::{PartSender, S3Store, S3Writer, SentPart};

/// A stream of bytes read from storage.
pub type BlobStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Objects one after another, each as its own stream ([`BlobStore::read_each`]).
pub type ObjectStreams = Pin<Box<dyn Stream<Item = Result<BlobStream, StorageError>> + Send>>;

/// S3 objects requested ahead of the one streaming.
const OPEN_AHEAD: usize = 4;

/// A task that stops when its handle goes (the consumer left); awaiting it gives its result.
struct AbortOnDrop<T>(tokio::task::JoinHandle<Result<T, StorageError>>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, StorageError>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|joined| joined.unwrap_or_else(|err| Err(std::io::Error::other(err).into())))
    }
}

/// Why storage failed. Never shown to clients (mapped to `AppError::Internal`).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Local disk.
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The S3 API answered with an error.
    #[error("S3: {0}")]
    S3(String),
    /// The S3 API did not answer (or its breaker is open): a `503`, not a `500`.
    #[error("S3 unavailable: {0}")]
    Unavailable(String),
    /// No object under that key.
    #[error("no such object")]
    NotFound,
    /// The configuration cannot work.
    #[error("storage configuration: {0}")]
    Config(String),
}

impl From<StorageError> for crate::AppError {
    fn from(err: StorageError) -> Self {
        if let StorageError::Unavailable(details) = &err {
            tracing::warn!(error = %details, "storage is unavailable");
            return crate::breaker::unavailable("storage");
        }
        Self::internal("storage error", &err)
    }
}

/// Where an object lives. Only made from a fresh UUID or read back from our own database.
/// A small file's bytes on local disk may sit in a pack ([`Span`]): `packed/<id>/<pack>/<offset>/<length>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobKey {
    kind: &'static str,
    id: uuid::Uuid,
    span: Option<Span>,
}

impl BlobKey {
    fn of(kind: &'static str, id: uuid::Uuid) -> Self {
        Self { kind, id, span: None }
    }

    /// A new key for a file's bytes.
    pub fn new_file() -> Self {
        Self::of("blobs", uuid::Uuid::new_v4())
    }

    /// A new key for an avatar image.
    pub fn new_avatar() -> Self {
        Self::of("avatars", uuid::Uuid::new_v4())
    }

    /// A new key for bytes a resumable upload keeps between requests (an S3 part's beginning).
    pub fn new_upload_tail() -> Self {
        Self::of("uploads", uuid::Uuid::new_v4())
    }

    /// This file's key once its bytes are in a pack at `span`.
    fn packed(&self, span: Span) -> Self {
        Self { kind: "packed", id: self.id, span: Some(span) }
    }

    /// The key of this file's thumbnail of `size` (the same id under the size's kind): known
    /// without a row, so deleting the file's bytes deletes its thumbnails too.
    pub fn thumbnail(&self, size: crate::media::ThumbSize) -> Self {
        let kind = match size {
            crate::media::ThumbSize::Small => "thumbs-small",
            crate::media::ThumbSize::Large => "thumbs-large",
        };
        Self::of(kind, self.id)
    }

    /// Whether this is the key of a file's bytes (which may have thumbnails).
    pub fn is_file(&self) -> bool {
        matches!(self.kind, "blobs" | "packed")
    }

    /// Reads a key stored by [`BlobKey::as_string`]; anything else is refused.
    pub fn from_stored(stored: &str) -> Result<Self, StorageError> {
        let mut parts = stored.split('/');
        let kind = match parts.next() {
            Some("blobs") => "blobs",
            Some("packed") => "packed",
            Some("avatars") => "avatars",
            Some("uploads") => "uploads",
            Some("thumbs-small") => "thumbs-small",
            Some("thumbs-large") => "thumbs-large",
            _ => return Err(StorageError::NotFound),
        };
        let uuid = |part: Option<&str>| part.and_then(|part| uuid::Uuid::parse_str(part).ok());
        let number = |part: Option<&str>| part.and_then(|part| part.parse::<u64>().ok());
        let id = uuid(parts.next()).ok_or(StorageError::NotFound)?;
        let span = match kind {
            "packed" => {
                let (pack, offset, length) =
                    (uuid(parts.next()), number(parts.next()), number(parts.next()));
                let (Some(pack), Some(offset), Some(length)) = (pack, offset, length) else {
                    return Err(StorageError::NotFound);
                };
                Some(Span { pack, offset, length })
            }
            _ => None,
        };
        let impossible =
            |span: Span| span.length == 0 || span.offset.checked_add(span.length).is_none();
        if parts.next().is_some() || span.is_some_and(impossible) {
            return Err(StorageError::NotFound);
        }
        Ok(Self { kind, id, span })
    }

    /// `blobs/<uuid>` (or a packed file's `packed/<uuid>/<pack>/<offset>/<length>`): the S3
    /// object key and the form stored in the database.
    pub fn as_string(&self) -> String {
        match self.span {
            None => format!("{}/{}", self.kind, self.id.hyphenated()),
            Some(Span { pack, offset, length }) => {
                format!(
                    "{}/{}/{}/{offset}/{length}",
                    self.kind,
                    self.id.hyphenated(),
                    pack.hyphenated()
                )
            }
        }
    }

    /// The key a file's thumbnails are filed under whatever holds its bytes (`blobs/<uuid>`).
    pub fn loose(&self) -> String {
        format!("blobs/{}", self.id.hyphenated())
    }
}

/// A byte range to read: `start..=end`, both inclusive, already checked against the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range (never zero: both ends are inclusive).
    pub fn byte_count(self) -> u64 {
        self.end - self.start + 1
    }
}

/// Response headers an S3 presigned GET should carry.
#[derive(Debug, Clone)]
pub struct PresignedGet {
    /// `Content-Disposition` to answer with.
    pub content_disposition: String,
    /// `Content-Type` to answer with.
    pub content_type: String,
    /// How long the URL works.
    pub expires_in: Duration,
}

/// The configured object store.
#[derive(Debug, Clone)]
pub enum BlobStore {
    /// Files under a directory.
    Local(LocalStore),
    /// An S3 bucket.
    S3(S3Store),
}

/// An object being written; invisible until [`BlobWriter::finish`]. Dropping it unfinished
/// removes what was written (a temp file, an S3 multipart upload).
pub enum BlobWriter {
    /// Into a temp file.
    Local(LocalWriter),
    /// Into an S3 object (multipart when large).
    S3(S3Writer),
}

impl BlobStore {
    /// The store the configuration names.
    pub async fn from_config(config: &Config) -> Result<Self, StorageError> {
        match config.storage {
            StorageKind::Local => Ok(Self::Local(LocalStore::new(config.data_dir.clone()).await?)),
            StorageKind::S3 => Ok(Self::S3(S3Store::new(config).await?)),
        }
    }

    /// Starts writing a new object under `key`.
    pub async fn writer(&self, key: &BlobKey) -> Result<BlobWriter, StorageError> {
        match self {
            Self::Local(store) => Ok(BlobWriter::Local(store.writer(key).await?)),
            Self::S3(store) => Ok(BlobWriter::S3(store.writer(key))),
        }
    }

    /// Streams the object (or one range of it).
    pub async fn read(
        &self,
        key: &BlobKey,
        range: Option<ByteRange>,
    ) -> Result<BlobStream, StorageError> {
        match self {
            Self::Local(store) => store.read(key, range).await,
            Self::S3(store) => store.read(key, range).await,
        }
    }

    /// The objects `keys`, each as its own stream, in order, opened ahead of the consumer: on
    /// local disk one thread reads them one after another; on S3 the next few requests run
    /// while one streams (their latency hidden). Dropping the stream stops everything.
    pub fn read_each(&self, keys: Vec<BlobKey>) -> ObjectStreams {
        match self {
            Self::Local(store) => store.read_each(keys),
            Self::S3(_) => {
                let store = self.clone();
                futures_util::stream::iter(keys)
                    .map(move |key| {
                        let store = store.clone();
                        AbortOnDrop(tokio::spawn(async move { store.read(&key, None).await }))
                    })
                    .buffered(OPEN_AHEAD)
                    .boxed()
            }
        }
    }

    /// Deletes the object; deleting a missing object succeeds.
    pub async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        match self {
            Self::Local(store) => store.delete(key).await,
            Self::S3(store) => store.delete(key).await,
        }
    }

    /// A presigned GET URL when this is S3; `None` on local disk.
    pub async fn presign_get(
        &self,
        key: &BlobKey,
        params: &PresignedGet,
    ) -> Result<Option<String>, StorageError> {
        match self {
            Self::Local(_) => Ok(None),
            Self::S3(store) => store.presign_get(key, params).await.map(Some),
        }
    }

    /// Every stored object of `kind` (`blobs`, `packed`, `avatars`…) as `(key, last modified)`.
    pub async fn list(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, std::time::SystemTime)>, StorageError> {
        match self {
            Self::Local(store) => store.list(kind).await,
            Self::S3(store) => store.list(kind).await,
        }
    }

    /// Removes leftovers of writes that never finished (crashed processes): temp files and
    /// Pannier's S3 multipart uploads older than `age` that no resumable upload still tracks
    /// (`tracked`: their upload ids); and packs whose every object was deleted. Returns how
    /// many were removed.
    pub async fn remove_stale_writes(
        &self,
        age: Duration,
        tracked: &std::collections::HashSet<String>,
    ) -> Result<usize, StorageError> {
        match self {
            Self::Local(store) => store.remove_stale_writes(age).await,
            Self::S3(store) => store.abort_stale_uploads(age, tracked).await,
        }
    }

    /// The circuit breaker of a remote store (S3); local disk has none.
    pub fn breaker(&self) -> Option<&Breaker> {
        match self {
            Self::Local(_) => None,
            Self::S3(store) => Some(store.breaker()),
        }
    }

    /// For `/readyz`: can we reach and write the store?
    pub async fn check(&self) -> Check {
        let result = match self {
            Self::Local(store) => store.check().await,
            Self::S3(store) => store.check().await,
        };
        match result {
            Ok(()) => Check::ok(),
            Err(err) => {
                tracing::warn!(error = %err, "storage not ready");
                Check::failed("storage unreachable")
            }
        }
    }
}

impl BlobWriter {
    /// Appends bytes.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        match self {
            Self::Local(writer) => writer.write(chunk).await,
            Self::S3(writer) => writer.write(chunk).await,
        }
    }

    /// Makes the object durable and visible; the key it is stored under: the writer's, or —
    /// a file's bytes small enough to hold in memory, on local disk — its place in a pack.
    pub async fn finish(self) -> Result<BlobKey, StorageError> {
        match self {
            Self::Local(writer) => writer.finish().await,
            Self::S3(writer) => writer.finish().await,
        }
    }

    /// Discards everything written.
    pub async fn abort(self) {
        match self {
            Self::Local(writer) => writer.abort().await,
            Self::S3(writer) => writer.abort().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored keys read back as they were written; anything else is no key of ours.
    #[test]
    fn keys_read_back_and_junk_is_refused() {
        let loose = BlobKey::new_file();
        let span = Span { pack: uuid::Uuid::new_v4(), offset: 24, length: 4096 };
        let packed = loose.packed(span);
        for key in [&loose, &packed, &BlobKey::new_avatar()] {
            assert_eq!(&BlobKey::from_stored(&key.as_string()).expect("a key"), key);
        }
        assert_eq!(packed.loose(), loose.as_string(), "thumbnails filed under the same id");
        let (id, pack) = (loose.id, span.pack);
        for junk in [
            String::new(),
            format!("../{id}"),
            format!("blobs/{id}/extra"),
            format!("packed/{id}"),
            format!("packed/{id}/{pack}/24"),
            format!("packed/{id}/{pack}/24/0"),
            format!("packed/{id}/{pack}/-1/10"),
            format!("packed/{id}/{pack}/{}/2", u64::MAX),
            format!("packed/{id}/{pack}/24/10/9"),
        ] {
            assert!(BlobKey::from_stored(&junk).is_err(), "{junk}");
        }
    }
}
