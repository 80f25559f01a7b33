//! `/api/v1/shares`: the owner's share links — create, list, change, revoke, access log. A
//! link with a `request` object is a file request: visitors upload into its folder.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::AppError;
use domain::ids::{FileId, FolderRef, ShareId};
use domain::shares::{self, NewShare, RequestRules, ShareChanges, ShareDto, ShareList};
use domain::state::AppState;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ApiPath, ApiQuery, ApiResult, Caller, json_body};

/// `POST /api/v1/shares` body.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateShare {
    file_ids: Option<Vec<FileId>>,
    /// A folder id, or `root`.
    #[schema(value_type = Option<String>)]
    folder_id: Option<FolderRef>,
    label: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    password: Option<String>,
    max_downloads: Option<u64>,
    allow_zip: Option<bool>,
    request: Option<RequestBody>,
}

/// A file request's rules: `{max_file_size?, max_total_bytes?, max_files?, allowed_types?}`
/// (bytes, bytes, a count, `[".pdf", "image/*"]`); absent is no limit.
#[derive(utoipa::ToSchema, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    max_file_size: Option<u64>,
    max_total_bytes: Option<u64>,
    max_files: Option<u64>,
    allowed_types: Option<Vec<String>>,
}

impl From<RequestBody> for RequestRules {
    fn from(body: RequestBody) -> Self {
        Self {
            max_file_size: body.max_file_size,
            max_total_bytes: body.max_total_bytes,
            max_files: body.max_files,
            allowed_types: body.allowed_types.unwrap_or_default(),
        }
    }
}

/// A link's access log, newest first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ShareEvents {
    events: Vec<domain::shares::ShareEventDto>,
}

/// `POST /api/v1/shares` → 201 with the link.
#[utoipa::path(post, path = "/shares", tag = "shares", request_body = CreateShare,
    responses((status = 201, description = "The new link", body = ShareDto), crate::api_v1::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    Caller(identity): Caller,
    body: Result<Json<CreateShare>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ShareDto>)> {
    let body = json_body(body)?;
    let new = NewShare {
        file_ids: body.file_ids.unwrap_or_default(),
        folder_id: body.folder_id,
        label: body.label,
        expires_at: body.expires_at,
        password: body.password.map(SecretString::from),
        max_downloads: body.max_downloads,
        allow_zip: body.allow_zip.unwrap_or(true),
        request: body.request.map(Into::into),
    };
    let share = shares::create(&state, &identity.user, new).await?;
    Ok((StatusCode::CREATED, Json(share)))
}

/// `GET /api/v1/shares?page=` → `{"shares": […], "page", "pages"}`, newest first, 50 a page.
#[utoipa::path(get, path = "/shares", tag = "shares", params(ListQuery),
    responses((status = 200, description = "One page of the caller's links", body = ShareList), crate::api_v1::openapi::Errors))]
pub async fn list(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<ShareList>> {
    Ok(Json(shares::list(&state, &identity.user, query.page.unwrap_or(1)).await?))
}

/// `?page=` (from 1).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<u64>,
}

/// `PATCH /api/v1/shares/{id}`: any of `label`, `expires_at`, `password`, `max_downloads`
/// (`null` clears one), `allow_zip`, and a file request's `request` (its rules, replaced whole).
#[utoipa::path(patch, path = "/shares/{id}", tag = "shares",
    params(("id" = ShareId, Path, description = "The link")), request_body = crate::api_v1::openapi::ShareChange,
    responses((status = 200, description = "Changed", body = ShareDto), crate::api_v1::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<ShareId>,
    body: Result<Json<Map<String, Value>>, JsonRejection>,
) -> ApiResult<Json<ShareDto>> {
    let mut changes = ShareChanges::default();
    for (key, value) in json_body(body)? {
        match key.as_str() {
            "label" => changes.label = Some(nullable(&key, value)?),
            "expires_at" => changes.expires_at = Some(nullable(&key, value)?),
            "password" => {
                let password: Option<String> = nullable(&key, value)?;
                changes.password = Some(password.map(SecretString::from));
            }
            "max_downloads" => changes.max_downloads = Some(nullable(&key, value)?),
            "allow_zip" => changes.allow_zip = Some(typed(&key, value)?),
            "request" => changes.request = Some(typed::<RequestBody>(&key, value)?.into()),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "Unknown field “{key}”: change label, expires_at, password, max_downloads, \
                     allow_zip or request."
                ))
                .into());
            }
        }
    }
    Ok(Json(shares::update(&state, &identity.user, id, changes).await?))
}

/// `DELETE /api/v1/shares/{id}`: the link stops working at once (then answers 404).
#[utoipa::path(delete, path = "/shares/{id}", tag = "shares",
    params(("id" = ShareId, Path, description = "The link")),
    responses((status = 204, description = "Revoked"), crate::api_v1::openapi::Errors))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<ShareId>,
) -> ApiResult<StatusCode> {
    shares::revoke(&state, &identity.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/shares/{id}/events` → `{"events": […]}`: the access log, newest first.
#[utoipa::path(get, path = "/shares/{id}/events", tag = "shares",
    params(("id" = ShareId, Path, description = "The link")),
    responses((status = 200, description = "The access log, newest first", body = ShareEvents), crate::api_v1::openapi::Errors))]
pub async fn events(
    State(state): State<AppState>,
    Caller(identity): Caller,
    ApiPath(id): ApiPath<ShareId>,
) -> ApiResult<Json<ShareEvents>> {
    let events = shares::events(&state, &identity.user, id).await?;
    Ok(Json(ShareEvents { events }))
}

fn typed<T: serde::de::DeserializeOwned>(key: &str, value: Value) -> Result<T, AppError> {
    serde_json::from_value(value).map_err(|err| AppError::invalid(key, format!("{key}: {err}")))
}

fn nullable<T: serde::de::DeserializeOwned>(
    key: &str,
    value: Value,
) -> Result<Option<T>, AppError> {
    if value.is_null() { Ok(None) } else { typed(key, value).map(Some) }
}
