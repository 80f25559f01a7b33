//! Files and folders: the types the browser and the server share (names, listings, previews);
//! with `server`, the services that store, list, move and delete them.

mod name;
mod query;

pub use name::FileName;
pub(crate) use name::is_invisible;
pub use query::{ListQuery, MAX_PAGE, PageSize, SortKey, SortOrder};

use serde::{Deserialize, Serialize};

use crate::ids::{FileId, FolderId};

#[cfg(feature = "server")]
mod avatar;
#[cfg(feature = "server")]
mod batch;
#[cfg(feature = "server")]
mod content;
#[cfg(feature = "server")]
mod edit;
#[cfg(feature = "server")]
mod folders;
#[cfg(feature = "server")]
pub mod group_commit;
#[cfg(feature = "server")]
mod listing;
#[cfg(feature = "server")]
mod quota;
#[cfg(feature = "server")]
mod reconcile;
#[cfg(feature = "server")]
mod signed;
#[cfg(feature = "server")]
mod tree;
#[cfg(feature = "server")]
mod upload;
#[cfg(feature = "server")]
mod viewer;

#[cfg(feature = "server")]
pub use avatar::{MAX_AVATAR_BYTES, avatar, remove_avatar, set_avatar};
#[cfg(feature = "server")]
pub use batch::{delete_items, measure_items, move_items};
#[cfg(feature = "server")]
pub(crate) use content::content_of;
#[cfg(feature = "server")]
pub use content::{
    Content, Download, RangeRequest, ServeAs, Unsatisfiable, content_disposition, http_date,
    open_content, read_text_preview,
};
#[cfg(feature = "server")]
pub use edit::update_file;
#[cfg(feature = "server")]
pub use folders::{Maker, create_folder, delete_folder, ensure_path, folder_of, update_folder};
#[cfg(feature = "server")]
pub use listing::{all_folders, file_detail, get_file, list_folder, list_folder_json, neighbours};
#[cfg(feature = "server")]
pub(crate) use listing::{file_dto, file_dtos, file_to_read, folder_dto};
#[cfg(feature = "server")]
pub(crate) use quota::sum;
#[cfg(feature = "server")]
pub use quota::{
    QuotaSetting, delete_files, purge_deleted_blobs, queue_account_blobs, set_quota, usage,
};
#[cfg(feature = "server")]
pub(crate) use quota::{committed_bytes, lock_owner, quota_of};
#[cfg(feature = "server")]
pub use reconcile::{StorageReport, check_storage};
#[cfg(feature = "server")]
pub(crate) use signed::{is_sealed, seal};
#[cfg(feature = "server")]
pub use signed::{open_signed, rotate_signing_keys};
#[cfg(feature = "server")]
pub(crate) use tree::{Children, ancestors, subtree};
#[cfg(feature = "server")]
pub use tree::{MAX_DEPTH, MAX_PATH_BYTES};
#[cfg(feature = "server")]
pub use upload::{IdempotencyKey, Upload, Uploader, store_file};
#[cfg(feature = "server")]
pub(crate) use upload::{
    Received, SNIFF_BYTES, Target, Via, commit, forget_old_keys, parse_dirs, quota_error, too_large,
};
#[cfg(feature = "server")]
pub use viewer::{markdown, text_view};

/// A file as its owner sees it.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDto {
    /// Its id.
    pub id: FileId,
    /// The folder holding it.
    pub folder_id: FolderId,
    /// Its name within the folder.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type detected from the bytes at upload.
    pub content_type: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Optional note by the owner.
    pub description: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// What previews found (pictures, videos, audio, PDFs, once their job ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::media::MediaDto>,
}

/// What a recursive delete removed.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deleted {
    /// Files removed.
    pub files: u64,
    /// Bytes released from the quota.
    pub bytes: u64,
}

/// A folder as its owner sees it.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderDto {
    /// Its id.
    pub id: FolderId,
    /// `None` for the owner's root folder.
    pub parent_id: Option<FolderId>,
    /// Its name (`""` for the root).
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
}

/// One page of a folder: the folder, the way to it, and its children (folders first).
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderListing {
    /// The folder listed.
    pub folder: FolderDto,
    /// From the root down to the folder's parent.
    pub path: Vec<FolderDto>,
    /// Child folders on this page.
    pub folders: Vec<FolderDto>,
    /// Files on this page.
    pub files: Vec<FileDto>,
    /// Child folders plus files in all.
    pub total: u64,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The caller's storage use.
    pub usage: Usage,
}

/// A folder's page as the file browser renders it: the listing without what the browser never
/// shows (checksums, descriptions, change times, the folder each file is in), so the page's
/// hydration data stays small. The REST API sends the whole [`FolderListing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderPage {
    /// The folder listed.
    pub folder: FolderDto,
    /// From the root down to the folder's parent.
    pub path: Vec<FolderDto>,
    /// Child folders on this page.
    pub folders: Vec<FolderDto>,
    /// Files on this page.
    pub files: Vec<PageFile>,
    /// Child folders plus files in all.
    pub total: u64,
    /// The next page's cursor; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The caller's storage use.
    pub usage: Usage,
    /// Whether a file on this page still waits for its previews (the page looks again soon).
    pub previews_pending: bool,
}

/// A file as a row of the file browser shows it. Sent as an array (`[id, name, size, type,
/// created]`): a hundred rows of field names were a third of the page's hydration data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PageFileRow", into = "PageFileRow")]
pub struct PageFile {
    /// Its id.
    pub id: FileId,
    /// Its name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type (its icon).
    pub content_type: String,
    /// When it was stored, to the minute: `2026-11-21T16:45` (UTC).
    pub created: String,
    /// When it has a thumbnail: the placeholder shown while it loads (a `data:` URL, or
    /// empty).
    pub thumb: Option<String>,
}

type PageFileRow = (FileId, String, u64, String, String, Option<String>);

impl From<PageFileRow> for PageFile {
    fn from((id, name, size, content_type, created, thumb): PageFileRow) -> Self {
        Self { id, name, size, content_type, created, thumb }
    }
}

impl From<PageFile> for PageFileRow {
    fn from(file: PageFile) -> Self {
        (file.id, file.name, file.size, file.content_type, file.created, file.thumb)
    }
}

impl From<FolderListing> for FolderPage {
    fn from(listing: FolderListing) -> Self {
        let previews_pending = listing.files.iter().any(|file| {
            file.media.is_none() && crate::media::MediaKind::of(&file.content_type).is_some()
        });
        let files = listing
            .files
            .into_iter()
            .map(|file| PageFile {
                id: file.id,
                name: file.name,
                size: file.size,
                content_type: file.content_type,
                created: file.created_at.get(..16).unwrap_or(&file.created_at).to_owned(),
                thumb: file
                    .media
                    .filter(|media| media.thumbnail)
                    .map(|media| media.placeholder.unwrap_or_default()),
            })
            .collect();
        Self {
            folder: listing.folder,
            path: listing.path,
            folders: listing.folders,
            files,
            total: listing.total,
            next_cursor: listing.next_cursor,
            usage: listing.usage,
            previews_pending,
        }
    }
}

/// A file with where it lives, for the detail page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDetail {
    /// The file.
    pub file: FileDto,
    /// From the root down to the folder holding it.
    pub path: Vec<FolderDto>,
    /// How the page may preview it.
    pub preview: Preview,
}

/// How the file page shows the start of a text file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextView {
    /// Plain text.
    Plain(String),
    /// Source code, shown with line numbers.
    Code(String),
    /// Markdown rendered to HTML with nothing active in it (no script, no raw HTML, no
    /// pictures from elsewhere, no `javascript:` links).
    Markdown(String),
    /// A CSV or TSV, the first row its header; `truncated` when the file has more rows or
    /// columns than shown.
    Table {
        /// The rows of cells.
        rows: Vec<Vec<String>>,
        /// Whether more is in the file.
        truncated: bool,
    },
}

/// The files before and after one in its folder, in the list's name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbours {
    /// The one before, `(id, name)`.
    pub previous: Option<(FileId, String)>,
    /// The one after.
    pub next: Option<(FileId, String)>,
}

/// Bytes used and allowed.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Sum of the sizes of the owner's files.
    pub used: u64,
    /// `None`: unlimited.
    pub quota: Option<u64>,
}

/// How a file can be shown in the page; anything else is only downloaded.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preview {
    /// `<img>`.
    Image,
    /// `<video>`.
    Video,
    /// `<audio>`.
    Audio,
    /// An embedded PDF viewer.
    Pdf,
    /// The first part of the text, escaped, in `<pre>`.
    Text,
    /// No preview.
    None,
}

impl Preview {
    /// The preview for a stored content type. Only passive types qualify: HTML, SVG, XML and
    /// scripts never do, whatever they claim (they also always download as attachments).
    pub fn of(content_type: &str) -> Self {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence {
            "image/svg+xml" => Self::None,
            "application/pdf" => Self::Pdf,
            "text/plain" | "text/csv" | "text/markdown" => Self::Text,
            t if t.starts_with("image/") => Self::Image,
            t if t.starts_with("video/") => Self::Video,
            t if t.starts_with("audio/") => Self::Audio,
            _ => Self::None,
        }
    }

    /// Whether the bytes may be served `inline` (rather than as an attachment).
    pub fn inline(self) -> bool {
        self != Self::None
    }
}

/// `1.5 MB`-style sizes (powers of 1024, as file managers show them).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passive_types_preview_inline() {
        assert_eq!(Preview::of("image/png"), Preview::Image);
        assert_eq!(Preview::of("text/plain; charset=utf-8"), Preview::Text);
        assert_eq!(Preview::of("application/pdf"), Preview::Pdf);
        for active in ["text/html", "image/svg+xml", "text/xml", "application/javascript", ""] {
            assert!(!Preview::of(active).inline(), "{active}");
        }
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(200 << 20), "200 MB");
        assert_eq!(human_size(3 << 30), "3.0 GB");
    }
}
