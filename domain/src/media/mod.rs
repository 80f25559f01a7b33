//! Media: thumbnails, placeholders and details (dimensions, duration, camera) of pictures,
//! videos, audio files and PDFs, made by the previews job after upload. The types the browser
//! and the server share; with `server`, making and serving them.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
mod make;
#[cfg(feature = "server")]
mod picture;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
mod tools;

#[cfg(feature = "server")]
pub(crate) use make::{Workspace, read};
#[cfg(feature = "server")]
pub use make::{make_previews, remove_stale_workspaces};
#[cfg(feature = "server")]
pub(crate) use picture::avatar;
#[cfg(feature = "server")]
pub use picture::{LARGE, SMALL};
#[cfg(feature = "server")]
pub use serve::{Thumbnail, backfill, media_dto, media_of, open_thumbnail, owner_thumbnail};
#[cfg(feature = "server")]
pub(crate) use tools::pdf_text;
#[cfg(feature = "server")]
pub use tools::{Tools, tools};

/// What previews found about a file (absent while its job has not run, and for files that
/// are not media).
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDto {
    /// `image`, `video`, `audio` or `pdf`.
    pub kind: String,
    /// Pixels, as shown (pictures and videos).
    pub width: Option<u32>,
    /// See `width`.
    pub height: Option<u32>,
    /// Milliseconds (video and audio).
    pub duration_ms: Option<u64>,
    /// Whether thumbnails exist (`small`; `large` too when `large`).
    pub thumbnail: bool,
    /// Whether a large thumbnail exists (pictures larger than the small one).
    pub large: bool,
    /// A tiny picture as a `data:` URL, shown blurred while the thumbnail loads.
    pub placeholder: Option<String>,
    /// When the photo was taken (RFC 3339; the camera's clock, read as UTC).
    pub taken_at: Option<String>,
    /// The camera.
    pub camera: Option<String>,
    /// Why there is no preview.
    pub error: Option<String>,
}

/// A thumbnail's size: `small` (256 px on the long side) or `large` (1024 px).
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThumbSize {
    /// 256 px.
    #[default]
    Small,
    /// 1024 px.
    Large,
}

/// The kinds of file previews are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// JPEG, PNG, GIF, WebP, TIFF, BMP.
    Image,
    /// A container ffmpeg reads.
    Video,
    /// Audio (its cover art, its duration).
    Audio,
    /// A PDF's first page.
    Pdf,
}

impl MediaKind {
    /// The kind of a file of `content_type` (as detected at upload), if it is media.
    pub fn of(content_type: &str) -> Option<Self> {
        match content_type.split_once('/') {
            Some(("image", "jpeg" | "png" | "gif" | "webp" | "tiff" | "bmp")) => Some(Self::Image),
            Some(("video", _)) => Some(Self::Video),
            Some(("audio", _)) => Some(Self::Audio),
            _ if content_type == "application/pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Pdf => "pdf",
        }
    }
}
