//! Serving a file's bytes safely: only passive types (images, audio, video, PDF, plain text) may
//! be `inline`; everything else is an attachment. Names go out per RFC 6266 (`filename*`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::Preview;
use super::listing::{file_to_read, get_file};
use crate::AppError;
use crate::entities::{files, shares, users};
use crate::ids::FileId;
use crate::state::AppState;
use crate::storage::{BlobKey, BlobStream, ByteRange, PresignedGet};

/// How long a presigned download URL works.
const PRESIGNED_TTL: Duration = Duration::from_secs(300);
/// How much of a text file the detail page shows.
const TEXT_PREVIEW_BYTES: u64 = 64 << 10;

/// RFC 5987 `attr-char`s stay as they are; everything else is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Whether the client asked to view or to save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeAs {
    /// In the browser, when the type is passive; else as an attachment anyway.
    View,
    /// Always as an attachment.
    Download,
}

/// Everything needed to answer a download: headers, and where the bytes come from.
#[derive(Debug, Clone)]
pub struct Download {
    /// Size in bytes.
    pub size: u64,
    /// `Content-Type` to send.
    pub content_type: String,
    /// `Content-Disposition` to send.
    pub content_disposition: String,
    /// Strong validator: the quoted SHA-256 (content never changes under an id).
    pub etag: String,
    /// `Last-Modified`.
    pub last_modified: DateTime<Utc>,
    key: BlobKey,
}

/// What a request asks of a file's bytes: its `Range` and `If-Range` headers, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeRequest {
    /// `Range`.
    pub range: Option<String>,
    /// `If-Range`.
    pub if_range: Option<String>,
}

/// A `Range` that no byte of the file satisfies (answered with 416, no bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// How to answer a request for a file's bytes.
#[derive(Debug, Clone)]
pub enum Content {
    /// Send the client elsewhere: the user-content origin or a presigned S3 URL.
    Redirect(String),
    /// Serve the bytes from here.
    Bytes(Download),
}

/// The content of the owner's file `id` (404 for anyone else's).
pub async fn open_content(
    state: &AppState,
    owner: &users::Model,
    id: FileId,
    serve_as: ServeAs,
) -> Result<Content, AppError> {
    let file = file_to_read(state, owner, id).await?;
    content_of(state, &file, serve_as, None).await
}

/// How to serve `file` (already authorized; `via` the share a visitor came through): from the
/// user-content origin, a presigned URL, or here.
pub(crate) async fn content_of(
    state: &AppState,
    file: &files::Model,
    serve_as: ServeAs,
    via: Option<&shares::Model>,
) -> Result<Content, AppError> {
    if let Some(link) = super::signed::content_link(state, file, serve_as, via).await? {
        return Ok(Content::Redirect(link));
    }
    Download::of(file, serve_as)?.into_content(state).await
}

impl Download {
    /// The download of a file row.
    pub fn of(file: &files::Model, serve_as: ServeAs) -> Result<Self, AppError> {
        let preview = Preview::of(&file.content_type);
        let inline = serve_as == ServeAs::View && preview.inline();
        let content_type = if preview == Preview::Text {
            format!("{}; charset=utf-8", file.content_type)
        } else {
            file.content_type.clone()
        };
        Ok(Self {
            size: u64::try_from(file.size).unwrap_or(0),
            content_type,
            content_disposition: content_disposition(&file.name, inline),
            etag: format!("\"{}\"", file.sha256),
            last_modified: file.created_at,
            key: BlobKey::from_stored(&file.blob_key)?,
        })
    }

    /// The one range to serve for `ask`, `None` for the whole file. Several ranges, malformed
    /// ones and a stale `If-Range` get the whole file (RFC 9110 allows it). The one reading of
    /// a `Range` header: the share policy counts by it what the response will send.
    pub fn range_for(&self, ask: &RangeRequest) -> Result<Option<ByteRange>, Unsatisfiable> {
        let Some(spec) = ask.range.as_deref().and_then(|r| r.trim().strip_prefix("bytes=")) else {
            return Ok(None);
        };
        if let Some(if_range) = ask.if_range.as_deref()
            && if_range != self.etag
            && if_range != http_date(self.last_modified)
        {
            return Ok(None);
        }
        if spec.contains(',') {
            return Ok(None);
        }
        let Some((first, last)) = spec.trim().split_once('-') else { return Ok(None) };
        let size = self.size;
        let (start, end) = match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(start), Ok(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
            (Ok(start), Err(_)) if last.is_empty() => (start, size.saturating_sub(1)),
            (Err(_), Ok(suffix)) if first.is_empty() && suffix > 0 => {
                (size.saturating_sub(suffix), size.saturating_sub(1))
            }
            (Err(_), Ok(0)) if first.is_empty() => return Err(Unsatisfiable),
            _ => return Ok(None),
        };
        if start >= size {
            return Err(Unsatisfiable);
        }
        Ok(Some(ByteRange { start, end }))
    }

    /// The bytes, or one range of them.
    pub async fn stream(
        &self,
        state: &AppState,
        range: Option<ByteRange>,
    ) -> Result<BlobStream, AppError> {
        Ok(state.storage.read(&self.key, range).await?)
    }

    /// A redirect to a short-lived presigned S3 URL when the configuration asks for them,
    /// else the bytes from here.
    pub async fn into_content(self, state: &AppState) -> Result<Content, AppError> {
        if !state.config.s3_presigned_downloads {
            return Ok(Content::Bytes(self));
        }
        let params = PresignedGet {
            content_disposition: self.content_disposition.clone(),
            content_type: self.content_type.clone(),
            expires_in: PRESIGNED_TTL,
        };
        Ok(match state.storage.presign_get(&self.key, &params).await? {
            Some(url) => Content::Redirect(url),
            None => Content::Bytes(self),
        })
    }
}

/// IMF-fixdate, as HTTP wants it.
pub fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `inline; filename="Ferien_.jpg"; filename*=UTF-8''Ferien%20%F0%9F%8F%96.jpg`.
pub fn content_disposition(name: &str, inline: bool) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = utf8_percent_encode(name, ATTR_CHAR);
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The first 64 KiB of the owner's text file, for the detail page (escaped when rendered).
pub async fn read_text_preview(
    state: &AppState,
    owner: &users::Model,
    id: FileId,
) -> Result<String, AppError> {
    let file = get_file(&state.db, owner, id).await?;
    if Preview::of(&file.content_type) != Preview::Text {
        return Err(AppError::BadRequest("This file has no text preview.".into()));
    }
    let size = u64::try_from(file.size).unwrap_or(0);
    if size == 0 {
        return Ok(String::new());
    }
    let range = ByteRange { start: 0, end: size.min(TEXT_PREVIEW_BYTES) - 1 };
    let mut stream =
        state.storage.read(&BlobKey::from_stored(&file.blob_key)?, Some(range)).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(
            &chunk.map_err(|err| AppError::internal("reading a preview", &err))?,
        );
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_names_use_filename_star() {
        assert_eq!(
            content_disposition("Ferien 🏖.jpg", true),
            "inline; filename=\"Ferien _.jpg\"; filename*=UTF-8''Ferien%20%F0%9F%8F%96.jpg"
        );
        assert_eq!(
            content_disposition("a\"b\\c.html", false),
            "attachment; filename=\"a_b_c.html\"; filename*=UTF-8''a%22b%5Cc.html"
        );
    }
}
