//! REST API v1 (`/api/v1`): JSON, bearer token or session cookie, errors as
//! `{"error": {"code", "message"}}`. Handlers are thin: authorize, call a service, map errors.

mod avatar;
pub mod content;
pub(crate) mod files;
mod folders;
pub mod openapi;
pub mod reference;
mod search;
pub(crate) mod shares;
pub mod thumbnails;
pub mod uploads;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::AppError;
use domain::auth::{ClientInfo, Identity};
use domain::files::Uploader;
use domain::shares::{UNLOCK_COOKIE, VISITOR_COOKIE, admit_upload};
use domain::state::AppState;

use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::edge;
use crate::errors::error_response;
use crate::startup::ServerState;

/// A profile picture plus multipart framing.
const AVATAR_BODY: usize = domain::files::MAX_AVATAR_BYTES + 64 * 1024;
/// The most a short report is read (a direct upload's part report, a multipart text field).
pub const REPORT_BODY: usize = 4 * 1024;

/// The `/api/v1` routes (nested by the caller), each registered from its handler's
/// `#[utoipa::path]` so the OpenAPI document ([`openapi`]) lists exactly these: JSON documents
/// under the request deadline, uploads and downloads streaming under their budgets instead.
pub fn router() -> Router<ServerState> {
    let (avatar_schemas, avatar_paths, avatar) =
        routes!(avatar::show, avatar::replace, avatar::upload, avatar::remove);
    let documents = OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(openapi::serve))
        .routes((avatar_schemas, avatar_paths, avatar.layer(DefaultBodyLimit::max(AVATAR_BODY))))
        .routes(routes!(files::show, files::update, files::delete))
        .routes(routes!(shares::create, shares::list))
        .routes(routes!(shares::update, shares::revoke))
        .routes(routes!(shares::events))
        .routes(routes!(search::search))
        .routes(routes!(folders::create))
        .routes(routes!(folders::show, folders::update, folders::delete))
        .route_layer(middleware::from_fn(edge::limits::deadline))
        .route_layer(edge::compression());
    let downloads = OpenApiRouter::new()
        .routes(routes!(content::download))
        .routes(routes!(thumbnails::thumbnail))
        .route_layer(middleware::from_fn(edge::limits::downloads));
    let (starts, later) = upload_handlers();
    let starts = starts
        .into_iter()
        .fold(OpenApiRouter::new(), OpenApiRouter::routes)
        .route_layer(middleware::from_fn(edge::limits::uploads));
    let uploads = later
        .into_iter()
        .fold(starts, OpenApiRouter::routes)
        .route_layer(middleware::from_fn(edge::limits::cut_stalled_uploads))
        .route_layer(middleware::from_fn(edge::limits::uploads_at_once));
    let (router, api) =
        OpenApiRouter::new().merge(documents).merge(downloads).merge(uploads).split_for_parts();
    openapi::keep(api);
    router
        .fallback(|| async { error_response(&AppError::NotFound("No such API endpoint.".into())) })
}

/// The upload handlers with their documented paths (under `/api/v1`): those that start an
/// upload (simple, tus creation) — each takes a unit of the uploads budget — and a tus
/// upload's later requests. Only the handlers that stream a file's bytes go without a body
/// limit: they enforce the size rules themselves while streaming.
fn upload_handlers() -> ([UtoipaMethodRouter<ServerState>; 2], [UtoipaMethodRouter<ServerState>; 2])
{
    let streaming = DefaultBodyLimit::disable;
    let (schemas, paths, simple) = routes!(files::upload_multipart, files::upload_raw);
    let simple = (schemas, paths, simple.layer(streaming()));
    let (schemas, paths, creation) = routes!(uploads::create, uploads::options);
    let creation = (schemas, paths, creation.layer(streaming()));
    let (schemas, paths, upload) = routes!(uploads::status, uploads::append, uploads::terminate);
    let upload = (schemas, paths, upload.layer(streaming()).options(uploads::options));
    let (schemas, paths, parts) = routes!(uploads::direct_step);
    let parts = (schemas, paths, parts.layer(DefaultBodyLimit::max(REPORT_BODY)));
    ([simple, creation], [upload, parts])
}

/// A file request's upload routes: the same handlers under `prefix` (`/s/{slug}`), where
/// [`Sender`] admits visitors through the share policy instead of asking for a token.
pub(crate) fn request_upload_routes(prefix: &str) -> Router<ServerState> {
    let mount = |router: Router<ServerState>,
                 (_, paths, routes): UtoipaMethodRouter<ServerState>| {
        let path = paths.paths.keys().next().cloned().unwrap_or_default();
        router.route(&format!("{prefix}{path}"), routes)
    };
    let (starts, later) = upload_handlers();
    let starts = starts
        .into_iter()
        .fold(Router::new(), mount)
        .route_layer(middleware::from_fn(edge::limits::uploads));
    later
        .into_iter()
        .fold(starts, mount)
        .route_layer(middleware::from_fn(edge::limits::cut_stalled_uploads))
        .route_layer(middleware::from_fn(edge::limits::uploads_at_once))
}

/// Any `/api/{version}/…` but v1: a JSON 404 that names the version this server speaks.
pub async fn unknown_version(ApiPath((version, _)): ApiPath<(String, String)>) -> Response {
    let shown: String = version.chars().filter(|c| !c.is_control()).take(20).collect();
    error_response(&AppError::NotFound(format!(
        "There is no API version “{shown}” here: this server speaks /api/v1."
    )))
}

/// `GET /api/v1/me`: the caller's account.
#[utoipa::path(get, path = "/me", tag = "account",
    responses((status = 200, description = "The caller's account", body = domain::account::UserDto), crate::api_v1::openapi::Errors))]
async fn me(Caller(identity): Caller) -> Response {
    Json(identity.dto()).into_response()
}

/// The authenticated caller; 401 in the JSON error shape otherwise.
pub struct Caller(pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Identity>().cloned().map(Caller).ok_or_else(|| {
            ApiError(AppError::Unauthorized(
                "Sign in, or send an API token as `Authorization: Bearer <token>`.".into(),
            ))
        })
    }
}

/// Who sends an upload: the signed-in caller under `/api/v1`; under `/s/{slug}`, a visitor the
/// share policy lets into that file request (with its unlock and visitor cookies).
pub struct Sender(pub Uploader);

impl FromRequestParts<ServerState> for Sender {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let Some(rest) = path.strip_prefix("/s/") else {
            let Caller(identity) = Caller::from_request_parts(parts, state).await?;
            return Ok(Self(Uploader::Account(identity.user)));
        };
        let slug = rest.split('/').next().unwrap_or_default();
        let unlock = crate::shares::cookie(&parts.headers, UNLOCK_COOKIE);
        let token = crate::shares::cookie(&parts.headers, VISITOR_COOKIE);
        let client = parts.extensions.get::<ClientInfo>().cloned().unwrap_or_default();
        // A new file (simple upload, tus creation) rather than the next bytes of one.
        let starting = parts.method == Method::PUT
            || (parts.method == Method::POST && !path.ends_with("/parts"));
        let app = AppState::from_ref(state);
        let who = admit_upload(&app, slug, unlock.as_deref(), token.as_deref(), &client, starting)
            .await?;
        Ok(Self(who))
    }
}

/// A query string parsed into its bounded type; what does not parse (a number past its type,
/// a missing field) is a 400 in the JSON error shape.
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| ApiError(AppError::BadRequest(rejection.body_text())))
    }
}

/// Path parameters parsed into their types (ids are [`domain::ids`]); what does not parse is a
/// 400 in the JSON error shape that names what was expected.
pub struct ApiPath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| ApiError(AppError::BadRequest(rejection.body_text())))
    }
}

/// An `AppError` answered in the REST shape.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

/// The handlers' result type.
pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body, or a 400 that says what is wrong with it (413 when it is too large).
fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| ApiError(unreadable_body(rejection.status(), rejection.body_text())))
}

/// Why a body read whole could not be read: larger than its route reads (413), or malformed.
pub(crate) fn unreadable_body(status: axum::http::StatusCode, text: String) -> AppError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::RequestTooLarge("The request body is larger than this endpoint reads.".into())
    } else {
        AppError::BadRequest(text)
    }
}

/// A plain form's answer: back to `path`, with the error (if any) as `?{key}=…` for the page
/// to show.
pub(crate) fn back_to(path: &str, key: &str, result: &Result<(), AppError>) -> Response {
    let target = match result {
        Ok(()) => path.to_owned(),
        Err(err) => {
            let message = err.to_string();
            let message =
                percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC);
            format!("{path}?{key}={message}")
        }
    };
    axum::response::Redirect::to(&target).into_response()
}

/// Whether the caller is a browser form post (answered with a redirect, not JSON).
pub(crate) fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
