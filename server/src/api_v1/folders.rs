//! `/api/v1/folders`: list one page, create, rename/move, delete recursively.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::AppError;
use domain::files::{self, FileName, FolderDto, FolderListing, SortKey};
use domain::state::AppState;
use serde::Deserialize;

use super::{ApiQuery, ApiResult, Caller, json_body};

/// `?cursor=&limit=&sort=name|size|date&order=asc|desc`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Page {
    cursor: Option<String>,
    limit: Option<u64>,
    sort: Option<String>,
    order: Option<String>,
}

async fn list(
    state: &AppState,
    caller: &Caller,
    id: Option<&str>,
    page: Page,
) -> ApiResult<Json<FolderListing>> {
    let sort = SortKey::parse(page.sort.as_deref().unwrap_or_default());
    let descending = page.order.as_deref() == Some("desc");
    let listing = files::list_folder(
        state,
        &caller.0.user,
        id,
        sort,
        descending,
        page.cursor.as_deref(),
        page.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(listing))
}

/// `GET /api/v1/folders/root`.
pub async fn show_root(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<FolderListing>> {
    list(&state, &caller, None, page).await
}

/// `GET /api/v1/folders/{id}`.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<FolderListing>> {
    list(&state, &caller, Some(&id), page).await
}

/// `{parent_id?, name}`.
#[derive(Debug, Deserialize)]
pub struct NewFolder {
    parent_id: Option<String>,
    name: String,
}

/// `POST /api/v1/folders` → 201.
pub async fn create(
    State(state): State<AppState>,
    Caller(identity): Caller,
    body: Result<Json<NewFolder>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<FolderDto>)> {
    let body = json_body(body)?;
    let name = FileName::parse(&body.name)?;
    let folder =
        files::create_folder(&state, &identity.user, body.parent_id.as_deref(), &name).await?;
    Ok((StatusCode::CREATED, Json(folder)))
}

/// `{name?, parent_id?}`.
#[derive(Debug, Deserialize)]
pub struct FolderChange {
    name: Option<String>,
    parent_id: Option<String>,
}

/// `PATCH /api/v1/folders/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Caller(identity): Caller,
    Path(id): Path<String>,
    body: Result<Json<FolderChange>, JsonRejection>,
) -> ApiResult<Json<FolderDto>> {
    let body = json_body(body)?;
    let name = body.name.as_deref().map(FileName::parse).transpose()?;
    if name.is_none() && body.parent_id.is_none() {
        return Err(AppError::BadRequest("Send `name` and/or `parent_id`.".into()).into());
    }
    let folder =
        files::update_folder(&state, &identity.user, &id, name, body.parent_id.as_deref()).await?;
    Ok(Json(folder))
}

/// `DELETE /api/v1/folders/{id}` → what was removed.
pub async fn delete(
    State(state): State<AppState>,
    Caller(identity): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<files::Deleted>> {
    Ok(Json(files::delete_folder(&state, &identity.user, &id).await?))
}
