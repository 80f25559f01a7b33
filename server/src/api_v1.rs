//! REST API v1 (`/api/v1`): JSON, bearer token or session cookie, errors as
//! `{"error": {"code", "message"}}`. Handlers are thin: authorize, call a service, map errors.

use axum::extract::Extension;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::AppError;
use domain::auth::Identity;

use crate::auth::error_response;
use crate::startup::ServerState;

/// The `/api/v1` routes (nested by the caller).
pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/me", get(me))
        .fallback(|| async { error_response(&AppError::NotFound("No such API endpoint.".into())) })
}

/// `GET /api/v1/me`: the caller's account.
async fn me(identity: Option<Extension<Identity>>) -> Response {
    match identity {
        Some(Extension(identity)) => Json(identity.dto()).into_response(),
        None => error_response(&unauthorized()),
    }
}

fn unauthorized() -> AppError {
    AppError::Unauthorized(
        "Sign in, or send an API token as `Authorization: Bearer <token>`.".into(),
    )
}
