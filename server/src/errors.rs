//! The one place errors become HTTP answers: [`error_response`] for the REST API and every
//! edge refusal (JSON body, status, `Retry-After`), and [`server_fn_status`], the boundary that
//! gives every server fn's error its real status. (Pages set theirs while rendering, with the
//! same `AppError::status` table: `app::components::guard::answer_with`.)

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::AppError;

/// The header server fns mark their error answers with.
const SERVER_FN_ERROR: &str = "serverfnerror";
/// The largest server fn error body read back (an `AppError` is far smaller).
const ERROR_BODY: usize = 64 * 1024;

/// The mapping from `AppError` to a REST response: status, JSON body, `Retry-After`.
pub fn error_response(err: &AppError) -> Response {
    let mut response = (status_of(err), Json(err.to_json())).into_response();
    retry_after(&mut response, err);
    response
}

/// A server fn answers every error with 500 and the error as JSON: this sets the error's own
/// status (403, 404, 422, 429 with `Retry-After`, …) on the way out, for every server fn, so no
/// call site can forget it. Form posts without JavaScript were already redirected back to
/// their page by `leptos_axum` and pass unchanged.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let err = serde_json::from_slice::<AppError>(&bytes).ok();
    if let Some(err) = &err {
        parts.status = status_of(err);
    }
    let mut response = Response::from_parts(parts, Body::from(bytes));
    if let Some(err) = &err {
        retry_after(&mut response, err);
    }
    response
}

fn status_of(err: &AppError) -> StatusCode {
    StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn retry_after(response: &mut Response, err: &AppError) {
    let seconds = match err {
        AppError::TooManyRequests { retry_after_secs, .. }
        | AppError::Overloaded { retry_after_secs, .. } => *retry_after_secs,
        AppError::Unavailable(_) => domain::breaker::RETRY_AFTER_SECS,
        _ => return,
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
}
