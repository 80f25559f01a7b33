//! Search over file names, descriptions and the text inside files ([`extract_text`]). This
//! half is shared with the browser: the query language ([`query`]) and the answers; the
//! `server` feature adds the engine that runs queries ([`search`]).

#[cfg(feature = "server")]
mod engine;
#[cfg(feature = "server")]
mod extract;
pub mod query;

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub use engine::{MAX_LIMIT, reindex, search};
#[cfg(feature = "server")]
pub(crate) use engine::{Scope, find, paths_below};
#[cfg(feature = "server")]
pub(crate) use extract::backfill_batch;
#[cfg(feature = "server")]
pub use extract::{MAX_TEXT_CHARS, backfill, extract_text, has_text};
pub use query::{Filter, Kind, Query, Term, parse};

use crate::files::{FileDto, FolderDto};

/// One file found.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The file.
    pub file: FileDto,
    /// Its folder's path, `/` for the root, e.g. `/Photos/2026`.
    pub path: String,
    /// Where its text matched, with the matches marked (empty when only its name or
    /// description did).
    #[serde(default)]
    pub snippet: Vec<SnippetPart>,
}

/// One folder found (by its name).
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderHit {
    /// The folder.
    pub folder: FolderDto,
    /// The path of the folder it is in, `/` for the root, e.g. `/Photos`.
    pub path: String,
}

/// A piece of a snippet.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// Whether this is what the query matched.
    pub hit: bool,
}

/// A page of results: files whose names match first, then the most recently changed; the
/// first page also has the folders whose names match.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    /// Folders whose names hold every word (the newest few; first page only, and only when
    /// the query has no filter folders lack: type, extension, size or date).
    #[serde(default)]
    pub folders: Vec<FolderHit>,
    /// What was found, in order.
    pub hits: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
