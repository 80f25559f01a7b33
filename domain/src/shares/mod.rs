//! Share links: the types the browser and the server share; with `server`, the services that
//! make and change links, the one policy every access to shared data goes through, and the
//! streamed zip of a share.

use serde::{Deserialize, Serialize};

use crate::files::Preview;
use crate::ids::{FileId, FolderId, ShareId, UploadId};

#[cfg(feature = "server")]
pub mod access;
#[cfg(feature = "server")]
mod contents;
mod form;
#[cfg(feature = "server")]
mod links;
#[cfg(feature = "server")]
mod page;
#[cfg(feature = "server")]
mod policy;
#[cfg(feature = "server")]
mod requests;
#[cfg(feature = "server")]
mod search;
#[cfg(feature = "server")]
mod sending;
#[cfg(feature = "server")]
mod slug;
#[cfg(feature = "server")]
mod zip;

#[cfg(feature = "server")]
pub use contents::{SharedFile, open_shared_file, open_shared_thumbnail, shared_zip};
pub use form::ShareForm;
#[cfg(feature = "server")]
pub use links::{NewShare, ShareChanges, create, events, for_file, list, revoke, update};
#[cfg(feature = "server")]
pub use page::{page_served, page_version, public_share};
#[cfg(feature = "server")]
pub(crate) use policy::password_version;
#[cfg(feature = "server")]
pub use policy::{
    Action, FileRequest, Grant, TRANSFER_COOKIE, TRANSFER_TTL_SECS, UNLOCK_COOKIE, UNLOCK_TTL_SECS,
    authorize, link_cookie, prune_events, unlock,
};
#[cfg(feature = "server")]
pub use requests::{
    RequestRules, VISITOR_COOKIE, Visitor, admit_upload, new_visitor_token, visitor_hash,
};
#[cfg(feature = "server")]
pub(crate) use requests::{accept_upload, reserve_upload};
#[cfg(feature = "server")]
pub use search::search_share;
#[cfg(feature = "server")]
pub use sending::cancel_sending;
#[cfg(feature = "server")]
pub use slug::ShareSlug;
#[cfg(feature = "server")]
pub use zip::{ZipEntry, ZipPlan};

/// Where a link stands.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    /// Works.
    Active,
    /// Past its expiry.
    Expired,
    /// Its downloads are used up (a file request: it has every file or byte it asked for).
    LimitReached,
    /// Turned off by its owner.
    Revoked,
}

/// A share link as its owner sees it.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareDto {
    /// Its id.
    pub id: ShareId,
    /// The unguessable part of the link.
    pub slug: String,
    /// The whole link, `<public url>/s/<slug>`.
    pub url: String,
    /// The owner's name for it.
    pub label: Option<String>,
    /// The label, else what it shares (“Photos”, “report.pdf and 2 more”), as its page says;
    /// a file request says where uploads go (“Uploads into “Tax papers””).
    pub title: String,
    /// A shared folder (live: what is added later appears), else a selection of files.
    pub folder_id: Option<FolderId>,
    /// The files of a selection.
    pub file_ids: Vec<FileId>,
    /// Whether visitors must type a password.
    pub has_password: bool,
    /// RFC 3339, or never.
    pub expires_at: Option<String>,
    /// Downloads allowed in all, or no limit.
    pub max_downloads: Option<u64>,
    /// Downloads so far (files and zips).
    pub downloads: u64,
    /// Page views so far.
    pub views: u64,
    /// Whether "download all as zip" is offered.
    pub allow_zip: bool,
    /// Where it stands.
    pub state: ShareState,
    /// RFC 3339 of the last access by anyone.
    pub last_access_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Set when the link is a file request: visitors upload into `folder_id`, nothing of the
    /// folder is shown to them.
    pub request: Option<RequestDto>,
}

/// One page of the owner's links.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareList {
    /// The links, newest first.
    pub shares: Vec<ShareDto>,
    /// This page, from 1.
    pub page: u64,
    /// Pages in all.
    pub pages: u64,
}

/// A file request's rules and what it has received.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDto {
    /// Largest file taken, in bytes.
    pub max_file_size: Option<u64>,
    /// Bytes taken in all.
    pub max_total_bytes: Option<u64>,
    /// Files taken in all.
    pub max_files: Option<u64>,
    /// File types taken: extensions (`.pdf`) and MIME types (`image/*`); empty takes any.
    pub allowed_types: Vec<String>,
    /// Files received so far.
    pub received_files: u64,
    /// Bytes received so far.
    pub received_bytes: u64,
    /// Visitors' uploads in progress: each holds a place and space until it ends or idles out.
    pub sending: Vec<SendingDto>,
}

/// A visitor's upload in progress through a file request, as the owner sees it.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingDto {
    /// The upload's id (to cancel it).
    pub id: UploadId,
    /// The file's name.
    pub name: String,
    /// Bytes received so far.
    pub received: u64,
    /// Bytes announced.
    pub length: u64,
    /// RFC 3339: when it ends unless more bytes arrive.
    pub expires_at: String,
}

/// One entry of a link's access log.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareEventDto {
    /// `view`, `download`, `zip`, `unlock` or `unlock_failed`.
    pub kind: String,
    /// The visitor's address, if known.
    pub ip: Option<String>,
    /// RFC 3339.
    pub at: String,
}

/// What a visitor of an open link sees: the owner's display name and the files — never the
/// owner's email, ids of their folders, or paths above the shared folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicShare {
    /// The slug (for the links on the page).
    pub slug: String,
    /// The owner's label, or a title made from the contents.
    pub title: String,
    /// The owner's display name.
    pub owner_name: String,
    /// The files of this page, with their place below the shared folder.
    pub files: Vec<PublicFile>,
    /// Files in all.
    pub file_count: u64,
    /// This page, from 1.
    pub page: usize,
    /// Pages in all.
    pub page_count: usize,
    /// Whether the zip of everything is offered.
    pub allow_zip: bool,
    /// RFC 3339, or never.
    pub expires_at: Option<String>,
    /// Downloads left, when limited.
    pub downloads_left: Option<u64>,
    /// Sum of the sizes of all the files.
    pub total_size: u64,
    /// The link as a QR code (SVG made here, not user content), for phones.
    pub qr_svg: String,
    /// The absolute address of the picture chat apps show with the link (Open Graph).
    pub card_image: Option<String>,
}

/// A shared file as a visitor sees it.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicFile {
    /// The file's id (only meaningful under this link).
    pub id: FileId,
    /// `sub/folder/name.ext` below the shared folder, or the name.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// How the page may preview it.
    pub preview: Preview,
    /// What previews found (its thumbnail is at `/s/{slug}/files/{id}/thumbnail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::media::MediaDto>,
}

/// A file found searching within a link.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicHit {
    /// The file, as the link's page shows it.
    pub file: PublicFile,
    /// Where its text matched, the matches marked (empty when its name did).
    pub snippet: Vec<crate::search::SnippetPart>,
}

/// A page of what a search within a link found: names matching first, then the newest.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSearch {
    /// What was found, in order.
    pub hits: Vec<PublicHit>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What a visitor of a file request sees: who asks, what is taken, and what this visitor
/// sent in this browser session — never the folder's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicRequest {
    /// The slug (the upload routes are under `/s/{slug}`).
    pub slug: String,
    /// The owner's label, or "Send files to …".
    pub title: String,
    /// The owner's display name.
    pub owner_name: String,
    /// RFC 3339, or never.
    pub expires_at: Option<String>,
    /// Largest file taken now (the request's and the server's limits), in bytes.
    pub max_file_size: Option<u64>,
    /// Files it still takes.
    pub files_left: Option<u64>,
    /// Bytes it still takes.
    pub bytes_left: Option<u64>,
    /// File types taken (empty: any).
    pub allowed_types: Vec<String>,
    /// What this visitor sent, newest first.
    pub sent: Vec<SentFile>,
}

/// A file a visitor sent through a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentFile {
    /// Its name as stored.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// RFC 3339.
    pub at: String,
}

/// What `/s/{slug}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareView {
    /// The files.
    Open(PublicShare),
    /// A file request's upload page.
    Request(PublicRequest),
    /// The password form (nothing else about the link is told).
    Locked {
        /// Why the last attempt failed, if it did.
        error: Option<String>,
    },
}

#[cfg(feature = "server")]
/// `User-Agent` parts of the robots that fetch a link to show a preview of it in a chat or a
/// mail (and of mail scanners): they get the page, never a file's bytes.
const PREVIEW_ROBOTS: &[&str] = &[
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "linkedinbot",
    "skypeuripreview",
    "microsoftpreview",
    "ms office",
    "microsoft office",
    "embedly",
    "iframely",
    "pinterestbot",
    "redditbot",
    "applebot",
    "googlebot",
    "bingbot",
    "bingpreview",
    "mastodon",
    "viber",
    "snapchat",
    "barracuda",
    "mimecast",
    "proofpoint",
];

#[cfg(feature = "server")]
/// Whether a request for a shared file or zip comes from a link-preview robot or a prefetch
/// (`Sec-Purpose`/`Purpose: prefetch`), which must not spend a download.
pub fn is_preview_fetch(user_agent: Option<&str>, purpose: Option<&str>) -> bool {
    let prefetch = purpose.is_some_and(|p| p.to_ascii_lowercase().contains("prefetch"));
    let robot = user_agent.is_some_and(|agent| {
        let agent = agent.to_ascii_lowercase();
        PREVIEW_ROBOTS.iter().any(|robot| agent.contains(robot))
    });
    prefetch || robot
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::is_preview_fetch;

    #[test]
    fn chat_robots_and_prefetches_are_told_apart_from_browsers() {
        let browser =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36";
        assert!(!is_preview_fetch(Some(browser), None));
        assert!(!is_preview_fetch(None, None));
        assert!(is_preview_fetch(Some(browser), Some("prefetch;anonymous-client-ip")));
        for robot in [
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "TelegramBot (like TwitterBot)",
            "WhatsApp/2.23.20.0",
            "facebookexternalhit/1.1",
            "Twitterbot/1.0",
            "LinkedInBot/1.0",
            "Mozilla/5.0 SkypeUriPreview Preview/0.5",
        ] {
            assert!(is_preview_fetch(Some(robot), None), "{robot}");
        }
    }
}
