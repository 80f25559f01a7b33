//! Searching the caller's files.

use domain::AppError;
use domain::search::SearchPage;
use leptos::prelude::*;

/// Page `cursor` of the caller's files matching `q` (20 a page).
#[server(endpoint = "search_files")]
pub async fn search_files(q: String, cursor: Option<String>) -> Result<SearchPage, AppError> {
    let identity = super::edge::require_identity()?;
    let query = domain::search::parse(&q)?;
    let state = super::edge::state()?;
    domain::search::search(&state, &identity.user, &query, 20, cursor.as_deref()).await
}
