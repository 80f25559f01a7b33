//! `GET /api/v1/search?q=&limit=&cursor=`: the caller's files matching a query.

use axum::Json;
use axum::extract::State;
use domain::search::{self, SearchPage};
use domain::state::AppState;
use serde::Deserialize;

use super::{ApiQuery, ApiResult, Caller};

/// What to look for and which page.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    /// Words (all must match), `"exact phrase"`, `-exclude`, and filters `type:image|video|audio|pdf|text|archive`, `ext:pdf`, `size:>10MB`, `modified:2026-11`, `after:2026-11-01`, `before:2026-12-01`, `in:"folder"`.
    q: String,
    /// Results per page, 1–50 (default 20).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The search route.
#[utoipa::path(get, path = "/search", tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching files: names holding every word first, then by description or text; each newest upload first", body = SearchPage),
        crate::api_v1::openapi::Errors))]
pub async fn search(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchPage>> {
    let parsed = search::parse(&query.q)?;
    let limit = query.limit.unwrap_or(20);
    let page =
        search::search(&state, &identity.user, &parsed, limit, query.cursor.as_deref()).await?;
    Ok(Json(page))
}
