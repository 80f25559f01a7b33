//! `/api/v1/uploads` (and `/s/{slug}/uploads`, into a file request): tus 1.0.0 resumable
//! uploads — Core, Creation (with upload), Expiration, Checksum (sha1, sha256) and
//! Termination — plus the direct-to-S3 part steps (`POST …/uploads/{id}/parts`). Metadata
//! keys: `filename`, `folder_id`, `path` (sub-folders to make below the folder); `filetype` is
//! accepted and ignored (the type is detected from the bytes).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::AppError;
use domain::files::Upload;
use domain::ids::UploadId;
use domain::state::AppState;
use domain::uploads::{self, CHECKSUM_ALGORITHMS, Checksum, NewUpload, PartDone, UploadStatus};

use super::content::header_str;
use super::{ApiPath, ApiResult, Sender, unreadable_body};
use domain::files::http_date;

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,expiration,checksum,termination";
const OFFSET_STREAM: &str = "application/offset+octet-stream";
/// Asks for direct-to-S3 parts at creation; answered with the part size when granted.
const DIRECT_REQUEST: &str = "pannier-direct-upload";
const DIRECT_PART_SIZE: &str = "pannier-direct-part-size";
/// The finished file's id, on the answer that completed the upload.
const FILE_ID: &str = "pannier-file-id";

/// Every tus answer carries `Tus-Resumable` (also refusals by the auth layers, which this
/// wraps); every tus request but `OPTIONS` must send the version we speak (→ 412 otherwise).
pub async fn tus_protocol(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let file_request = path.strip_prefix("/s/").is_some_and(|rest| rest.contains("/uploads"));
    if !path.starts_with("/api/v1/uploads") && !file_request {
        return next.run(request).await;
    }
    let is_parts = path.ends_with("/parts");
    let version = request.headers().get("tus-resumable").and_then(|v| v.to_str().ok());
    let mut response =
        if request.method() == Method::OPTIONS || is_parts || version == Some(TUS_VERSION) {
            next.run(request).await
        } else {
            let mut response = super::ApiError(AppError::BadRequest(format!(
                "Send `Tus-Resumable: {TUS_VERSION}`: this server speaks tus {TUS_VERSION}."
            )))
            .into_response();
            *response.status_mut() = StatusCode::PRECONDITION_FAILED;
            response.headers_mut().insert("tus-version", HeaderValue::from_static(TUS_VERSION));
            response
        };
    if !is_parts {
        response.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    }
    response
}

/// `OPTIONS`: what this server supports.
#[utoipa::path(options, path = "/uploads", tag = "uploads",
    responses((status = 204, description = "The tus versions, extensions, checksum algorithms and largest size")))]
pub async fn options(State(state): State<AppState>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    headers.insert("tus-checksum-algorithm", HeaderValue::from_static(CHECKSUM_ALGORITHMS));
    if let Some(max) = state.config.max_file_size.limit() {
        headers.insert("tus-max-size", HeaderValue::from(max));
    }
    response
}

/// The `{id}` of an upload's URL (under `/s/{slug}` too).
#[derive(Debug, serde::Deserialize)]
pub struct UploadPath {
    id: UploadId,
}

/// `POST …/uploads` (Creation): `Upload-Length` and `Upload-Metadata`; with a body of
/// `application/offset+octet-stream`, its bytes are the upload's first (creation-with-upload).
#[utoipa::path(post, path = "/uploads", tag = "uploads",
    params(("Tus-Resumable" = String, Header, description = "`1.0.0`"), ("Upload-Length" = Option<u64>, Header, description = "The file's size"),
        ("Upload-Metadata" = Option<String>, Header, description = "`filename`, `folder_id`, … as base64 pairs")),
    request_body(content = Option<crate::api_v1::openapi::Binary>, content_type = "application/offset+octet-stream", description = "Optional first bytes (creation-with-upload)"),
    responses((status = 201, description = "Created; `Location` is its URL, `Upload-Offset` what arrived"), crate::api_v1::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    Sender(who): Sender,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    if headers.contains_key("upload-defer-length") {
        return Err(bad("Send Upload-Length: this server does not take deferred lengths.").into());
    }
    let length = number_header(&headers, "upload-length")?;
    let metadata = Metadata::parse(header_str(&headers, "upload-metadata").unwrap_or_default())?;
    let name = metadata.get(&["filename", "name"]).filter(|n| !n.trim().is_empty());
    let name = name.ok_or_else(|| bad("Name the file: Upload-Metadata `filename <base64>`."))?;
    let folder = metadata.get(&["folder_id", "folder"]).unwrap_or_default().parse()?;
    let target = Upload { folder, relative_dir: metadata.get(&["path"]), name, key: None };
    let direct = header_str(&headers, DIRECT_REQUEST) == Some("s3");
    let new = NewUpload { target, length, direct };
    let status = match header_str(&headers, "content-type") {
        Some(OFFSET_STREAM) => {
            let checksum = checksum(&headers)?;
            let body = body.into_data_stream();
            detached(
                async move { uploads::create_with_bytes(&state, &who, new, checksum, body).await },
            )
            .await?
        }
        Some(_) if has_body(&headers) => return Err(wrong_type().into()),
        _ => uploads::create(&state, &who, new).await?,
    };
    let id = status.id;
    let mut response = tus_headers(StatusCode::CREATED, status.offset, &status);
    let location = format!("{}/{id}", uri.path().trim_end_matches('/'));
    response.headers_mut().insert(header::LOCATION, header_value(&location)?);
    if let Some(size) = status.direct_part_size {
        response.headers_mut().insert(DIRECT_PART_SIZE, HeaderValue::from(size));
    }
    Ok(response)
}

/// `HEAD …/uploads/{id}`: the offset to continue from.
#[utoipa::path(head, path = "/uploads/{id}", tag = "uploads",
    params(("id" = UploadId, Path, description = "The upload"), ("Tus-Resumable" = String, Header, description = "`1.0.0`")),
    responses((status = 200, description = "`Upload-Offset` and `Upload-Length`"), crate::api_v1::openapi::Errors))]
pub async fn status(
    State(state): State<AppState>,
    Sender(who): Sender,
    ApiPath(UploadPath { id }): ApiPath<UploadPath>,
) -> ApiResult<Response> {
    let status = uploads::status(&state, &who, id).await?;
    let offset = if status.file.is_some() { status.length } else { status.offset };
    let mut response = tus_headers(StatusCode::OK, offset, &status);
    let headers = response.headers_mut();
    headers.insert("upload-length", HeaderValue::from(status.length));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(size) = status.direct_part_size {
        headers.insert(DIRECT_PART_SIZE, HeaderValue::from(size));
    }
    Ok(response)
}

/// `PATCH …/uploads/{id}`: bytes at `Upload-Offset`.
#[utoipa::path(patch, path = "/uploads/{id}", tag = "uploads",
    params(("id" = UploadId, Path, description = "The upload"), ("Tus-Resumable" = String, Header, description = "`1.0.0`"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes go"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha1 <base64>` of this request's bytes")),
    request_body(content = crate::api_v1::openapi::Binary, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "Stored; `Upload-Offset` is the new offset"),
        (status = 409, description = "The offset is not the upload's", body = domain::error::ErrorBody), crate::api_v1::openapi::Errors))]
pub async fn append(
    State(state): State<AppState>,
    Sender(who): Sender,
    ApiPath(UploadPath { id }): ApiPath<UploadPath>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    if header_str(&headers, "content-type") != Some(OFFSET_STREAM) {
        return Err(wrong_type().into());
    }
    let offset = number_header(&headers, "upload-offset")?;
    let checksum = checksum(&headers)?;
    let stream = body.into_data_stream();
    let written =
        detached(async move { uploads::append(&state, &who, id, offset, checksum, stream).await })
            .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert("upload-offset", HeaderValue::from(written.offset));
    headers.insert("upload-expires", header_value(&http_date(written.expires_at))?);
    if let Some(file) = &written.file {
        headers.insert(FILE_ID, header_value(&file.id.to_string())?);
    }
    Ok(response)
}

/// Runs a write in a task of its own: when the client goes away mid-body, the connection's
/// future is dropped, but the write still sees the body end, records what arrived (or undoes
/// a creation) and lets go of the upload, so the client can continue at once.
async fn detached<T: Send + 'static>(
    write: impl Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(write).await.map_err(|err| AppError::internal("upload task", &err))?
}

/// `DELETE …/uploads/{id}` (Termination): the upload and its bytes go.
#[utoipa::path(delete, path = "/uploads/{id}", tag = "uploads",
    params(("id" = UploadId, Path, description = "The upload"), ("Tus-Resumable" = String, Header, description = "`1.0.0`")),
    responses((status = 204, description = "Removed with its bytes"), crate::api_v1::openapi::Errors))]
pub async fn terminate(
    State(state): State<AppState>,
    Sender(who): Sender,
    ApiPath(UploadPath { id }): ApiPath<UploadPath>,
) -> ApiResult<StatusCode> {
    uploads::terminate(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST …/uploads/{id}/parts` (direct-to-S3): body `{"number", "etag"}` after a part was
/// sent, or empty to ask where to go on → the next part's URL, or the file.
#[utoipa::path(post, path = "/uploads/{id}/parts", tag = "uploads",
    params(("id" = UploadId, Path, description = "The upload")),
    request_body(content = Option<uploads::PartDone>, description = "The part just sent to the bucket, or nothing to ask where to go on"),
    responses((status = 200, description = "The next part's URL, or the stored file", body = uploads::DirectStep), crate::api_v1::openapi::Errors))]
pub async fn direct_step(
    State(state): State<AppState>,
    Sender(who): Sender,
    ApiPath(UploadPath { id }): ApiPath<UploadPath>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<uploads::DirectStep>> {
    let body = body.map_err(|err| unreadable_body(err.status(), err.body_text()))?;
    let done = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let done: PartDone = serde_json::from_slice(&body)
            .map_err(|err| bad(&format!("Send {{\"number\": …, \"etag\": …}}: {err}")))?;
        Some(done)
    };
    Ok(Json(uploads::direct_step(&state, &who, id, done).await?))
}

/// `Upload-Metadata`: `key base64,key base64,…`.
struct Metadata(Vec<(String, String)>);

impl Metadata {
    fn parse(header: &str) -> Result<Self, AppError> {
        let mut pairs = Vec::new();
        for pair in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
            let value = STANDARD
                .decode(value.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    bad(&format!("Upload-Metadata “{key}” is not base64 of UTF-8 text."))
                })?;
            pairs.push((key.to_owned(), value));
        }
        Ok(Self(pairs))
    }

    /// The first of `keys` present.
    fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    }
}

fn tus_headers(status: StatusCode, offset: u64, upload: &UploadStatus) -> Response {
    let mut response = status.into_response();
    let headers = response.headers_mut();
    headers.insert("upload-offset", HeaderValue::from(offset));
    if let Ok(expires) = HeaderValue::from_str(&http_date(upload.expires_at)) {
        headers.insert("upload-expires", expires);
    }
    if let Some(file) = &upload.file
        && let Ok(id) = HeaderValue::from_str(&file.id.to_string())
    {
        headers.insert(FILE_ID, id);
    }
    response
}

fn checksum(headers: &HeaderMap) -> Result<Option<Checksum>, AppError> {
    header_str(headers, "upload-checksum").map(Checksum::parse).transpose()
}

fn number_header(headers: &HeaderMap, name: &str) -> Result<u64, AppError> {
    header_str(headers, name)
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| bad(&format!("Send {name} as a non-negative whole number.")))
}

fn has_body(headers: &HeaderMap) -> bool {
    header_str(headers, "content-length").is_none_or(|len| len.trim() != "0")
}

fn header_value(value: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(value).map_err(|_| AppError::Internal)
}

fn bad(message: &str) -> AppError {
    AppError::BadRequest(message.to_owned())
}

fn wrong_type() -> AppError {
    AppError::UnsupportedMediaType(format!("Send the bytes as Content-Type: {OFFSET_STREAM}."))
}
