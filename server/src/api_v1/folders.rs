//! `/api/v1/folders`: list one page, create, rename/move, delete recursively.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use domain::AppError;
use domain::files::{self, FileName, FolderDto, FolderListing, ListQuery};
use domain::ids::{FolderId, FolderRef};
use domain::state::AppState;
use serde::Deserialize;

use super::{ApiPath, ApiQuery, ApiResult, Caller, json_body};

/// `GET /api/v1/folders/{id}` (`root` is the root): one page,
/// `?sort=name|size|date&order=asc|desc&cursor=&limit=`.
#[utoipa::path(get, path = "/folders/{id}", tag = "folders",
    params(("id" = String, Path, description = "A folder id, or `root`"), ListQuery),
    responses((status = 200, description = "One page of the folder", body = FolderListing), crate::api_v1::openapi::Errors))]
pub async fn show(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(folder): ApiPath<FolderRef>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    // Serialized once per change of the tree: the body is the cached bytes.
    let json = files::list_folder_json(&state, &identity.user, folder, &query).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json))
}

/// `{parent_id?, name}`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct NewFolder {
    /// A folder id, or `root`.
    #[schema(value_type = Option<String>)]
    parent_id: Option<FolderRef>,
    name: String,
}

/// `POST /api/v1/folders` → 201.
#[utoipa::path(post, path = "/folders", tag = "folders", request_body = NewFolder,
    responses((status = 201, description = "Created", body = FolderDto), crate::api_v1::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    Caller(identity): Caller,
    body: Result<Json<NewFolder>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<FolderDto>)> {
    let body = json_body(body)?;
    let name = FileName::parse(&body.name)?;
    let folder =
        files::create_folder(&state, &identity.user, body.parent_id.unwrap_or_default(), &name)
            .await?;
    Ok((StatusCode::CREATED, Json(folder)))
}

/// `{name?, parent_id?}`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct FolderChange {
    name: Option<String>,
    /// A folder id, or `root`.
    #[schema(value_type = Option<String>)]
    parent_id: Option<FolderRef>,
}

/// `PATCH /api/v1/folders/{id}`.
#[utoipa::path(patch, path = "/folders/{id}", tag = "folders",
    params(("id" = FolderId, Path, description = "The folder")), request_body = FolderChange,
    responses((status = 200, description = "Changed", body = FolderDto), crate::api_v1::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FolderId>,
    body: Result<Json<FolderChange>, JsonRejection>,
) -> ApiResult<Json<FolderDto>> {
    let body = json_body(body)?;
    let name = body.name.as_deref().map(FileName::parse).transpose()?;
    if name.is_none() && body.parent_id.is_none() {
        return Err(AppError::BadRequest("Send `name` and/or `parent_id`.".into()).into());
    }
    let folder = files::update_folder(&state, &identity.user, id, name, body.parent_id).await?;
    Ok(Json(folder))
}

/// `DELETE /api/v1/folders/{id}` → what was removed.
#[utoipa::path(delete, path = "/folders/{id}", tag = "folders",
    params(("id" = FolderId, Path, description = "The folder")),
    responses((status = 200, description = "Deleted with everything in it", body = files::Deleted), crate::api_v1::openapi::Errors))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<FolderId>,
) -> ApiResult<Json<files::Deleted>> {
    Ok(Json(files::delete_folder(&state, &identity.user, id).await?))
}
