//! `/api/v1/files`: upload (raw `PUT` for scripts, multipart `POST` for forms), metadata,
//! rename/move/describe, delete.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::AppError;
use domain::files::{self, FileDto, FileName, IdempotencyKey, Upload, Uploader};
use domain::ids::{FileId, FolderRef};
use domain::state::AppState;
use serde::Deserialize;

use super::{
    ApiError, ApiPath, ApiQuery, ApiResult, Caller, REPORT_BODY, Sender, back_to, json_body,
    wants_html,
};

/// `?folder_id=&name=&path=` (`path`: sub-folders below `folder_id` to create, `a/b`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Deserialize)]
pub struct RawUpload {
    /// A folder id, or `root` (the default).
    #[param(value_type = Option<String>)]
    folder_id: Option<FolderRef>,
    /// The file's name.
    name: Option<String>,
    /// Sub-folders below `folder_id` to create and store into, `a/b`.
    path: Option<String>,
}

/// `PUT /api/v1/files?folder_id=…&name=…` (or `/s/{slug}/files?name=…` into a file request)
/// with the bytes as the body → 201 with the file. With an `Idempotency-Key`, a retry with the
/// same key and bytes gets the same file (its first answer was lost), not a copy.
#[utoipa::path(put, path = "/files", tag = "files",
    params(RawUpload, ("Idempotency-Key" = Option<String>, Header,
        description = "Yours for this upload (a UUID, say): sent again with the same bytes within a day, the answer is the file the first attempt made, not a second copy; with other bytes, 409")),
    request_body(content = crate::api_v1::openapi::Binary, content_type = "application/octet-stream", description = "The file's bytes"),
    responses((status = 201, description = "Stored", body = FileDto), crate::api_v1::openapi::Errors))]
pub async fn upload_raw(
    State(state): State<AppState>,
    Sender(who): Sender,
    ApiQuery(query): ApiQuery<RawUpload>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<FileDto>)> {
    let name = query
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| AppError::BadRequest("Name the file: PUT …/files?name=report.pdf".into()))?;
    let folder = query.folder_id.unwrap_or_default();
    let key = match headers.get("idempotency-key") {
        Some(key) => Some(IdempotencyKey::parse(key.to_str().unwrap_or_default())?),
        None => None,
    };
    let upload = Upload { folder, relative_dir: query.path, name, key };
    let file = files::store_file(&state, &who, upload, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// `POST /api/v1/files` (or `/s/{slug}/files`; multipart/form-data): a `folder_id` field
/// first, then file fields. A file name with slashes (a folder picked in a browser) keeps its
/// sub-folders. JSON callers get 201 `{"files": […]}`; a plain HTML form is sent back to the
/// folder or the request's page (with `?error=`).
#[utoipa::path(post, path = "/files", tag = "files",
    request_body(content = crate::api_v1::openapi::Binary, content_type = "multipart/form-data",
        description = "File parts (a name with `/` creates sub-folders) and an optional `folder_id` field"),
    responses((status = 201, description = "Stored", body = StoredFiles), crate::api_v1::openapi::Errors))]
pub async fn upload_multipart(
    State(state): State<AppState>,
    Sender(who): Sender,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let mut folder = FolderRef::Root;
    let mut stored = Vec::new();
    let max_parts = state.config.max_upload_parts;
    let result = async {
        let mut parts = 0;
        while let Some(field) = multipart.next_field().await.map_err(bad_multipart)? {
            parts += 1;
            if parts > max_parts {
                return Err(too_many_parts(max_parts, stored.len()));
            }
            if let Some(file_name) = field.file_name().map(str::to_owned) {
                let (dir, name) = match file_name.rsplit_once(['/', '\\']) {
                    Some((dir, name)) => (Some(dir.to_owned()), name.to_owned()),
                    None => (None, file_name),
                };
                if name.is_empty() {
                    continue; // an empty file input still sends a nameless part
                }
                let upload = Upload { folder, relative_dir: dir, name, key: None };
                stored.push(files::store_file(&state, &who, upload, field).await?);
            } else if field.name() == Some("folder_id") {
                folder = short_text(field).await?.parse()?;
            }
        }
        if stored.is_empty() {
            return Err(AppError::BadRequest("Choose at least one file to upload.".into()));
        }
        Ok(())
    }
    .await;
    if wants_html(&headers) {
        let page = match &who {
            Uploader::Visitor(visitor) => format!("/s/{}", visitor.share.slug),
            Uploader::Account(_) => {
                let folder = folder.id().map(|id| format!("/{id}"));
                format!("/files{}", folder.unwrap_or_default())
            }
        };
        return back_to(&page, "error", &result);
    }
    match result {
        Ok(()) => (StatusCode::CREATED, Json(StoredFiles { files: stored })).into_response(),
        Err(err) => ApiError(err).into_response(),
    }
}

/// The 413 of a multipart upload past `max_upload_parts` (the files before it are kept, each
/// stored whole: the message says how many).
fn too_many_parts(max: usize, stored: usize) -> AppError {
    AppError::RequestTooLarge(format!(
        "This upload has more than {max} parts; send at most {max} files per request. \
         The first {stored} were stored."
    ))
}

/// What a multipart upload stored, in the order of its parts.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StoredFiles {
    files: Vec<FileDto>,
}

/// A multipart text field, read whole up to `REPORT_BODY` bytes (413 past it).
async fn short_text(mut field: Field<'_>) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
        if bytes.len() + chunk.len() > REPORT_BODY {
            return Err(AppError::RequestTooLarge(format!(
                "The form field “{}” is longer than this endpoint reads.",
                field.name().unwrap_or_default()
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| AppError::BadRequest("A form field is not UTF-8 text.".into()))
}

fn bad_multipart(err: axum::extract::multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("The upload could not be read: {}", err.body_text()))
}

/// `GET /api/v1/files/{id}`.
#[utoipa::path(get, path = "/files/{id}", tag = "files",
    params(("id" = FileId, Path, description = "The file")),
    responses((status = 200, description = "The file", body = FileDto), crate::api_v1::openapi::Errors))]
pub async fn show(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FileId>,
) -> ApiResult<Json<FileDto>> {
    Ok(Json(files::file_detail(&state, &identity.user, id).await?.file))
}

/// `{name?, folder_id?, description?}`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct FileChange {
    name: Option<String>,
    /// A folder id, or `root`.
    #[schema(value_type = Option<String>)]
    folder_id: Option<FolderRef>,
    description: Option<String>,
}

/// `PATCH /api/v1/files/{id}`.
#[utoipa::path(patch, path = "/files/{id}", tag = "files",
    params(("id" = FileId, Path, description = "The file")), request_body = FileChange,
    responses((status = 200, description = "Changed", body = FileDto), crate::api_v1::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FileId>,
    body: Result<Json<FileChange>, JsonRejection>,
) -> ApiResult<Json<FileDto>> {
    let body = json_body(body)?;
    let name = body.name.as_deref().map(FileName::parse).transpose()?;
    let file =
        files::update_file(&state, &identity.user, id, name, body.folder_id, body.description)
            .await?;
    Ok(Json(file))
}

/// `DELETE /api/v1/files/{id}` → 204.
#[utoipa::path(delete, path = "/files/{id}", tag = "files",
    params(("id" = FileId, Path, description = "The file")),
    responses((status = 204, description = "Deleted"), crate::api_v1::openapi::Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FileId>,
) -> ApiResult<StatusCode> {
    files::delete_files(&state, &identity.user, &[id]).await?;
    Ok(StatusCode::NO_CONTENT)
}
