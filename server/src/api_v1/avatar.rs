//! `/api/v1/me/avatar`: the caller's profile picture — read, replace (raw `PUT` or a multipart
//! form with an `avatar` field), remove.

use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::AppError;
use domain::files;
use domain::state::AppState;

use super::{ApiError, ApiResult, Caller, back_to, wants_html};

/// `GET`: the picture, with the same safety headers as every file.
#[utoipa::path(get, path = "/me/avatar", tag = "account",
    responses((status = 200, description = "The profile picture", content_type = "image/*", body = crate::api_v1::openapi::Binary), crate::api_v1::openapi::Errors))]
pub async fn show(State(state): State<AppState>, Caller(identity): Caller) -> ApiResult<Response> {
    let (bytes, kind) = files::avatar(&state, &identity.user).await?;
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "private, no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, "sandbox"),
        ],
        bytes,
    )
        .into_response())
}

/// `PUT` with the image as the body → 204.
#[utoipa::path(put, path = "/me/avatar", tag = "account",
    request_body(content = crate::api_v1::openapi::Binary, content_type = "image/*", description = "A JPEG, PNG, WebP or GIF of at most 5 MiB"),
    responses((status = 204, description = "Replaced"), crate::api_v1::openapi::Errors))]
pub async fn replace(
    State(state): State<AppState>,
    Caller(identity): Caller,
    body: Body,
) -> ApiResult<StatusCode> {
    files::set_avatar(&state, &identity.user, body.into_data_stream()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST` multipart (`avatar` field) → 204, or back to the account page for a plain form.
#[utoipa::path(post, path = "/me/avatar", tag = "account",
    request_body(content = crate::api_v1::openapi::Binary, content_type = "multipart/form-data", description = "An `avatar` file part"),
    responses((status = 204, description = "Replaced"), crate::api_v1::openapi::Errors))]
pub async fn upload(
    State(state): State<AppState>,
    Caller(identity): Caller,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let result = async {
        let mut parts = 0;
        while let Some(field) =
            multipart.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))?
        {
            parts += 1;
            if parts > state.config.max_upload_parts {
                return Err(AppError::RequestTooLarge("The form has too many parts.".into()));
            }
            if field.name() == Some("avatar") {
                return files::set_avatar(&state, &identity.user, field).await;
            }
        }
        Err(AppError::invalid("avatar", "Choose an image to upload."))
    }
    .await;
    if wants_html(&headers) {
        return back_to("/account", "avatar_error", &result);
    }
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => ApiError(err).into_response(),
    }
}

/// `DELETE` → 204.
#[utoipa::path(delete, path = "/me/avatar", tag = "account",
    responses((status = 204, description = "Removed"), crate::api_v1::openapi::Errors))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(identity): Caller,
) -> ApiResult<StatusCode> {
    files::remove_avatar(&state, &identity.user).await?;
    Ok(StatusCode::NO_CONTENT)
}
