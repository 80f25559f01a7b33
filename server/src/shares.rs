//! The public side of share links, beside the app's `/s/{slug}` page: a shared file's bytes
//! (preview or download), the zip of everything, the password form's target, and a file
//! request's upload routes. Each handler asks `domain::shares`, whose every entry point starts
//! with the one access policy (uploads through `api_v1::Sender`).

use axum::Form;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use domain::AppError;
use domain::auth::ClientInfo;
use domain::files::content_disposition;
use domain::ids::FileId;
use domain::shares::{
    self, FileRequest, ShareSlug, TRANSFER_COOKIE, TRANSFER_TTL_SECS, UNLOCK_COOKIE,
    UNLOCK_TTL_SECS, link_cookie,
};
use domain::state::AppState;
use secrecy::SecretString;
use serde::Deserialize;

use crate::api_v1::content::{ContentQuery, header_str, insert, range_request, safety, serve};
use crate::api_v1::{
    ApiError, ApiPath, ApiQuery, ApiResult, back_to, request_upload_routes, unreadable_body,
    wants_html,
};
use crate::startup::ServerState;

/// A shared file's bytes.
pub const SHARED_FILE: &str = "/s/{slug}/files/{file_id}";
/// A shared file's thumbnail.
pub const SHARED_THUMBNAIL: &str = "/s/{slug}/files/{file_id}/thumbnail";
/// Every file of a link as one zip.
pub const SHARED_ZIP: &str = "/s/{slug}/zip";
/// The password form's target.
pub const UNLOCK: &str = "/s/{slug}/unlock";
/// A file request's simple uploads (`PUT ?name=`, multipart `POST`).
pub const REQUEST_FILES: &str = "/s/{slug}/files";
/// A file request's tus uploads (`{id}`, `{id}/parts` below).
pub const REQUEST_UPLOADS: &str = "/s/{slug}/uploads";
/// Every route that shows shared data (the first is the app's page); tests walk this list.
pub const SHARE_ROUTES: &[&str] = &["/s/{slug}", SHARED_FILE, SHARED_THUMBNAIL, SHARED_ZIP];
/// Every route that takes a file request's uploads, with its method; tests walk this list.
pub const REQUEST_ROUTES: &[(&str, &str)] = &[
    ("PUT", REQUEST_FILES),
    ("POST", REQUEST_FILES),
    ("POST", REQUEST_UPLOADS),
    ("HEAD", "/s/{slug}/uploads/{id}"),
    ("PATCH", "/s/{slug}/uploads/{id}"),
    ("DELETE", "/s/{slug}/uploads/{id}"),
    ("POST", "/s/{slug}/uploads/{id}/parts"),
];

/// Searching within a link.
pub const SHARE_SEARCH: &str = "/s/{slug}/search";

/// The public share routes.
pub fn router() -> Router<ServerState> {
    let search = Router::new()
        .route(SHARE_SEARCH, get(share_search))
        .route_layer(middleware::from_fn(crate::edge::limits::deadline));
    let downloads = Router::new()
        .route(SHARED_FILE, get(shared_file))
        .route(SHARED_THUMBNAIL, get(shared_thumbnail))
        .route(
            SHARED_ZIP,
            get(shared_zip).route_layer(middleware::from_fn(crate::edge::limits::zips_at_once)),
        )
        .route_layer(middleware::from_fn(crate::edge::limits::downloads));
    let unlock = Router::new()
        .route(UNLOCK, post(unlock))
        .route_layer(middleware::from_fn(crate::edge::limits::deadline));
    Router::new()
        .merge(downloads)
        .merge(unlock)
        .merge(search)
        .merge(request_upload_routes("/s/{slug}"))
}

/// `GET`/`HEAD /s/{slug}/files/{file_id}`: with Range, validators and the user-content safety
/// headers. What counts as a download is the policy's (`domain::shares::policy`); a counted
/// transfer of a limited link leaves a transfer cookie so a player's later ranges are free.
#[utoipa::path(get, path = "/s/{slug}/files/{file_id}", tag = "public", security(()),
    params(("slug" = String, Path, description = "The link"), ("file_id" = FileId, Path, description = "A file it shares"),
        ContentQuery, ("Range" = Option<String>, Header, description = "One byte range")),
    responses(
        (status = 200, description = "The bytes", content_type = "application/octet-stream", body = crate::api_v1::openapi::Binary),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = crate::api_v1::openapi::Binary),
        (status = 304, description = "Not modified"),
        (status = 410, description = "The link expired or its downloads are used up", body = domain::error::ErrorBody),
        (status = 416, description = "The range is outside the file"),
        crate::api_v1::openapi::Errors))]
pub(crate) async fn shared_file(
    State(state): State<AppState>,
    ApiPath((slug, file_id)): ApiPath<(String, FileId)>,
    ApiQuery(query): ApiQuery<ContentQuery>,
    Extension(client): Extension<ClientInfo>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(page) = preview_fetch(&slug, &headers) {
        return Ok(page);
    }
    let ask = FileRequest {
        id: file_id,
        serve_as: query.serve_as(),
        get: method == Method::GET,
        range: range_request(&headers),
        transfer: cookie(&headers, TRANSFER_COOKIE),
    };
    let unlock = cookie(&headers, UNLOCK_COOKIE);
    let (content, transfer) =
        shares::open_shared_file(&state, &slug, unlock.as_deref(), &client, ask).await?;
    let mut response = serve(&state, content, &method, &headers).await?;
    insert(&mut response, header::CACHE_CONTROL, "private, no-store");
    if let (Some(token), Some(slug)) = (transfer, ShareSlug::parse(&slug)) {
        let cookie = (TRANSFER_COOKIE, token.as_str());
        set_link_cookie(&mut response, &state, &slug, cookie, TRANSFER_TTL_SECS);
    }
    Ok(response)
}

/// `GET /s/{slug}/files/{file_id}/thumbnail`: through the share policy like the file (a
/// password-protected link answers 401 until unlocked), never counted as a download; checked
/// again on every use (`no-cache`), so a revoked link's thumbnails stop at once.
#[utoipa::path(get, path = "/s/{slug}/files/{file_id}/thumbnail", tag = "public", security(()),
    params(("slug" = String, Path, description = "The link"), ("file_id" = FileId, Path, description = "A file it shares"),
        crate::api_v1::thumbnails::ThumbQuery),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg", body = crate::api_v1::openapi::Binary),
        (status = 304, description = "Not modified"),
        (status = 410, description = "The link expired or its downloads are used up", body = domain::error::ErrorBody),
        crate::api_v1::openapi::Errors))]
pub(crate) async fn shared_thumbnail(
    State(state): State<AppState>,
    ApiPath((slug, file_id)): ApiPath<(String, FileId)>,
    ApiQuery(query): ApiQuery<crate::api_v1::thumbnails::ThumbQuery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let unlock = cookie(&headers, UNLOCK_COOKIE);
    let size = query.size();
    let thumbnail =
        shares::open_shared_thumbnail(&state, &slug, unlock.as_deref(), &client, file_id, size)
            .await?;
    Ok(crate::api_v1::thumbnails::answer(thumbnail, &headers, "private, no-cache"))
}

/// What to look for within a link, and which page.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct ShareSearchQuery {
    /// The same language as `/api/v1/search` (`in:"folder"` names folders inside the link).
    q: String,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /s/{slug}/search?q=&cursor=`: the link's files matching a query, 20 a page, through
/// the link's policy (a password link needs its unlock cookie). Never counts a download.
#[utoipa::path(get, path = "/s/{slug}/search", tag = "public", security(()),
    params(("slug" = String, Path, description = "The link"), ShareSearchQuery),
    responses(
        (status = 200, description = "Matching files of the link, names matching first", body = domain::shares::ShareSearch),
        (status = 410, description = "The link expired or its downloads are used up", body = domain::error::ErrorBody),
        crate::api_v1::openapi::Errors))]
pub(crate) async fn share_search(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiQuery(query): ApiQuery<ShareSearchQuery>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<domain::shares::ShareSearch>> {
    let parsed = domain::search::parse(&query.q)?;
    let unlock = cookie(&headers, UNLOCK_COOKIE);
    let found = shares::search_share(
        &state,
        &slug,
        unlock.as_deref(),
        &client,
        &parsed,
        query.cursor.as_deref(),
    )
    .await?;
    Ok(axum::Json(found))
}

/// `GET /s/{slug}/zip`: streamed, with its exact length (counts one download).
#[utoipa::path(get, path = "/s/{slug}/zip", tag = "public", security(()),
    params(("slug" = String, Path, description = "The link")),
    responses(
        (status = 200, description = "Every shared file as one zip", content_type = "application/zip", body = crate::api_v1::openapi::Binary),
        (status = 410, description = "The link expired or its downloads are used up", body = domain::error::ErrorBody),
        crate::api_v1::openapi::Errors))]
pub(crate) async fn shared_zip(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(client): Extension<ClientInfo>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if method != Method::GET {
        let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
        insert(&mut response, header::ALLOW, "GET");
        return Ok(response);
    }
    if let Some(page) = preview_fetch(&slug, &headers) {
        return Ok(page);
    }
    let unlock = cookie(&headers, UNLOCK_COOKIE);
    let (plan, name) = shares::shared_zip(&state, &slug, unlock.as_deref(), &client).await?;
    let length = plan.content_length();
    let mut response = Body::from_stream(plan.stream(state.storage.clone())).into_response();
    insert(&mut response, header::CONTENT_TYPE, "application/zip");
    insert(&mut response, header::CONTENT_DISPOSITION, &content_disposition(&name, false));
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    insert(&mut response, header::CACHE_CONTROL, "private, no-store");
    safety(&mut response, &state);
    Ok(response)
}

/// A link-preview robot or a prefetch asking for bytes is sent to the link's page (its title
/// and description for the preview), so it never spends a download.
fn preview_fetch(slug: &str, headers: &HeaderMap) -> Option<Response> {
    let purpose = header_str(headers, "sec-purpose").or_else(|| header_str(headers, "purpose"));
    shares::is_preview_fetch(header_str(headers, header::USER_AGENT), purpose).then(|| {
        let slug = ShareSlug::parse(slug).map(|s| s.as_str().to_owned()).unwrap_or_default();
        Redirect::to(&format!("/s/{slug}")).into_response()
    })
}

/// Sets cookie `name` for link `slug` only (`Path=/s/<slug>`), HttpOnly, Lax.
fn set_link_cookie(
    response: &mut Response,
    state: &AppState,
    slug: &ShareSlug,
    (name, value): (&str, &str),
    max_age: i64,
) {
    let secure = if state.config.is_https() { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Path=/s/{}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        slug.as_str()
    );
    insert(response, header::SET_COOKIE, &cookie);
}

/// The password form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UnlockForm {
    password: String,
}

/// `POST /s/{slug}/unlock`: right → the unlock cookie (this link's path only, one hour) and
/// back to the page; wrong → 422, or 429 after repeated failures (a browser's form is sent back
/// to the page with the message instead).
#[utoipa::path(post, path = "/s/{slug}/unlock", tag = "public", security(()),
    params(("slug" = String, Path, description = "The link")),
    request_body(content = UnlockForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 204, description = "Unlocked: the unlock cookie is set (a browser's form is redirected to the page)"),
        crate::api_v1::openapi::Errors))]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    form: Result<Form<UnlockForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(err) => {
            return ApiError(unreadable_body(err.status(), err.body_text())).into_response();
        }
    };
    let Some(slug) = ShareSlug::parse(&slug) else {
        return ApiError(AppError::NotFound("This link does not exist or was turned off.".into()))
            .into_response();
    };
    let page = format!("/s/{}", slug.as_str());
    let password = SecretString::from(form.password);
    match shares::unlock(&state, slug.as_str(), password, &client).await {
        Ok(token) => {
            let mut response = Redirect::to(&page).into_response();
            let cookie = (UNLOCK_COOKIE, token.as_str());
            set_link_cookie(&mut response, &state, &slug, cookie, UNLOCK_TTL_SECS);
            response
        }
        Err(err @ (AppError::NotFound(_) | AppError::Gone(_))) => ApiError(err).into_response(),
        // A browser's form goes back to the page, which shows why; scripts get the status
        // (422 wrong password, 429 throttled).
        Err(err) if !wants_html(&headers) => ApiError(err).into_response(),
        Err(err) => back_to(&page, "error", &Err(err)),
    }
}

/// Cookie `name` of a share link (the unlock, a file request's visitor token), if sent.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let cookies = headers.get_all(header::COOKIE);
    link_cookie(cookies.iter().filter_map(|v| v.to_str().ok()), name)
}
