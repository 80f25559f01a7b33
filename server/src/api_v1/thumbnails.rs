//! `GET /api/v1/files/{id}/thumbnail`: a file's thumbnail (its owner's), and the answer the
//! share route (`/s/{slug}/files/{id}/thumbnail`) sends too.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::ids::FileId;
use domain::media::{self, ThumbSize, Thumbnail};
use domain::state::AppState;
use serde::Deserialize;

use super::{ApiPath, ApiQuery, ApiResult, Caller};

/// `?size=small` (256 px, the default) or `large` (1024 px).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ThumbQuery {
    size: Option<ThumbSize>,
}

impl ThumbQuery {
    /// The size asked for.
    pub fn size(&self) -> ThumbSize {
        self.size.unwrap_or_default()
    }
}

/// The thumbnail route.
#[utoipa::path(get, path = "/files/{id}/thumbnail", tag = "files",
    params(("id" = FileId, Path, description = "The file"), ThumbQuery),
    responses(
        (status = 200, description = "The thumbnail (JPEG, or lossless WebP for pictures with transparency)", content_type = "image/jpeg", body = crate::api_v1::openapi::Binary),
        (status = 304, description = "Not modified"),
        crate::api_v1::openapi::Errors))]
pub async fn thumbnail(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FileId>,
    ApiQuery(query): ApiQuery<ThumbQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let thumbnail = media::owner_thumbnail(&state, &identity.user, id, query.size()).await?;
    // A file's bytes never change, so neither does its thumbnail: kept for good.
    Ok(answer(thumbnail, &headers, "private, max-age=31536000, immutable"))
}

/// The thumbnail, or 304 when the client holds it; never sniffed, never active content.
pub fn answer(thumbnail: Thumbnail, headers: &HeaderMap, cache: &'static str) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == thumbnail.etag));
    let head = [
        (header::CACHE_CONTROL, cache.to_owned()),
        (header::ETAG, thumbnail.etag),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, head).into_response();
    }
    let mut response = (head, Body::from_stream(thumbnail.stream)).into_response();
    if let Ok(kind) = thumbnail.content_type.parse() {
        response.headers_mut().insert(header::CONTENT_TYPE, kind);
    }
    response
}
