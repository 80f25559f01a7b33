//! `GET`/`HEAD /api/v1/files/{id}/content`: the bytes, with a single Range (206/416), strong
//! ETag and Last-Modified validators (304), and the user-content safety headers on every answer.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use domain::files::{self, Content, Download, RangeRequest, ServeAs, Unsatisfiable, http_date};
use domain::ids::FileId;
use domain::state::AppState;
use domain::storage::ByteRange;
use serde::Deserialize;

use super::{ApiPath, ApiQuery, ApiResult, Caller};

/// `?download=1` asks for an attachment even for previewable types.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ContentQuery {
    download: Option<String>,
}

impl ContentQuery {
    /// View unless `?download=` says otherwise.
    pub fn serve_as(&self) -> ServeAs {
        match self.download.as_deref() {
            Some("" | "0" | "false") | None => ServeAs::View,
            Some(_) => ServeAs::Download,
        }
    }
}

/// The download route.
#[utoipa::path(get, path = "/files/{id}/content", tag = "files",
    params(("id" = FileId, Path, description = "The file"), ContentQuery,
        ("Range" = Option<String>, Header, description = "One byte range, `bytes=0-99`")),
    responses(
        (status = 200, description = "The bytes", content_type = "application/octet-stream", body = crate::api_v1::openapi::Binary),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = crate::api_v1::openapi::Binary),
        (status = 304, description = "Not modified"),
        (status = 416, description = "The range is outside the file"),
        crate::api_v1::openapi::Errors))]
pub async fn download(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FileId>,
    ApiQuery(query): ApiQuery<ContentQuery>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let content = files::open_content(&state, &identity.user, id, query.serve_as()).await?;
    serve(&state, content, &method, &headers).await
}

/// `GET`/`HEAD /c/{token}`: a signed content link (the user-content origin); no cookies needed.
pub async fn signed(
    State(state): State<AppState>,
    Path(token): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let content = files::open_signed(&state, &token).await?;
    serve(&state, content, &method, &headers).await
}

/// Answers a content request: a redirect, 304, 416, 206 or 200.
pub async fn serve(
    state: &AppState,
    content: Content,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let download = match content {
        Content::Redirect(url) => {
            let mut response = StatusCode::FOUND.into_response();
            insert(&mut response, header::LOCATION, &url);
            insert(&mut response, header::CACHE_CONTROL, "no-store");
            return Ok(response);
        }
        Content::Bytes(download) => download,
    };
    let download = &download;
    if not_modified(download, headers) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        validators(&mut response, download);
        return Ok(response);
    }
    let range = match download.range_for(&range_request(headers)) {
        Ok(range) => range,
        Err(Unsatisfiable) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            insert(&mut response, header::CONTENT_RANGE, &format!("bytes */{}", download.size));
            safety(&mut response, state);
            return Ok(response);
        }
    };
    let length = range.map_or(download.size, ByteRange::byte_count);
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(download.stream(state, range).await?)
    };
    let mut response = body.into_response();
    if let Some(range) = range {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let value = format!("bytes {}-{}/{}", range.start, range.end, download.size);
        insert(&mut response, header::CONTENT_RANGE, &value);
    }
    insert(&mut response, header::CONTENT_LENGTH, &length.to_string());
    insert(&mut response, header::CONTENT_TYPE, &download.content_type);
    insert(&mut response, header::CONTENT_DISPOSITION, &download.content_disposition);
    insert(&mut response, header::ACCEPT_RANGES, "bytes");
    validators(&mut response, download);
    safety(&mut response, state);
    Ok(response)
}

/// The `Range` and `If-Range` headers of a request.
pub(crate) fn range_request(headers: &HeaderMap) -> RangeRequest {
    RangeRequest {
        range: header_str(headers, header::RANGE).map(str::to_owned),
        if_range: header_str(headers, header::IF_RANGE).map(str::to_owned),
    }
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 §13.2.2).
fn not_modified(download: &Download, headers: &HeaderMap) -> bool {
    if let Some(tags) = header_str(headers, header::IF_NONE_MATCH) {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == download.etag);
    }
    header_str(headers, header::IF_MODIFIED_SINCE)
        .and_then(|since| DateTime::parse_from_rfc2822(since).ok())
        .is_some_and(|since| download.last_modified.timestamp() <= since.timestamp())
}

fn validators(response: &mut Response, download: &Download) {
    insert(response, header::ETAG, &download.etag);
    insert(response, header::LAST_MODIFIED, &http_date(download.last_modified));
    // The owner's private bytes: browsers may keep them but must revalidate; no shared caches.
    insert(response, header::CACHE_CONTROL, "private, no-cache");
}

/// User content never runs in our origin: no sniffing, no scripts, no plugins, no forms; only
/// our own pages may frame it (the PDF preview), also when it comes from a user-content origin.
pub(crate) fn safety(response: &mut Response, state: &AppState) {
    insert(response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let policy = format!("sandbox; frame-ancestors {}", state.config.public_origin());
    insert(response, header::CONTENT_SECURITY_POLICY, &policy);
    insert(response, header::X_FRAME_OPTIONS, "SAMEORIGIN");
}

pub(crate) fn insert(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// A request header as text, if present and readable.
pub(crate) fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
