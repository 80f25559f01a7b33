//! Resumable uploads (tus 1.0): the types the browser client shares with the server; with
//! `server`, the service that keeps each upload's state in the database (so any instance can
//! continue it, also after a restart) and its bytes in storage until the last one arrives.

use serde::{Deserialize, Serialize};

use crate::files::FileDto;

#[cfg(feature = "server")]
mod direct;
#[cfg(feature = "server")]
mod lease;
#[cfg(feature = "server")]
mod patch;
#[cfg(feature = "server")]
mod record;
#[cfg(feature = "server")]
mod stage;

#[cfg(feature = "server")]
pub use direct::direct_step;
#[cfg(feature = "server")]
pub use patch::{Checksum, ChecksumAlgorithm, Written, append};
#[cfg(feature = "server")]
pub use record::{
    NewUpload, UploadStatus, create, create_with_bytes, expire_abandoned, remove_stale_writes,
    status, terminate,
};
#[cfg(feature = "server")]
pub(crate) use record::{discard_all, of_owner};

/// tus checksum algorithms this server verifies, as `OPTIONS` lists them.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";

/// Direct-to-S3 mode: where the browser sends the next part, or the finished file.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectStep {
    /// Bytes stored so far.
    pub offset: u64,
    /// The next part to `PUT`, until every byte is stored.
    pub next: Option<DirectPart>,
    /// The file, once the upload is complete.
    pub file: Option<FileDto>,
}

/// One part of a direct upload: `PUT` bytes `start..end` of the file to `url`, then report
/// the `ETag` the bucket answers with.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectPart {
    /// Part number, from 1.
    pub number: u32,
    /// A presigned URL, valid for a few minutes.
    pub url: String,
    /// First byte (inclusive).
    pub start: u64,
    /// Last byte (exclusive).
    pub end: u64,
}

/// What the browser reports after sending a part.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDone {
    /// The part number it sent.
    pub number: u32,
    /// The `ETag` header of the bucket's answer.
    pub etag: String,
}
