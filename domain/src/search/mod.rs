//! Search over file names and descriptions (contents come with the extraction jobs). This
//! half is shared with the browser: the query language ([`query`]) and the answers; the
//! `server` feature adds the engine that runs queries ([`search`]).

#[cfg(feature = "server")]
mod engine;
pub mod query;

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub use engine::{MAX_LIMIT, reindex, search};
pub use query::{Kind, Query, Term, parse};

use crate::files::FileDto;

/// One file found.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The file.
    pub file: FileDto,
    /// Its folder's path, `/` for the root, e.g. `/Photos/2026`.
    pub path: String,
}

/// A page of results: files whose names match first, then the most recently changed.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    /// What was found, in order.
    pub hits: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
