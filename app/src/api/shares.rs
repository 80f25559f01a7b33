//! Server functions for share links: the owner's forms (create, list, edit, revoke, access
//! log) and the public page's data. Files, zips and the password form are plain routes under
//! `/s/{slug}/…` (the unlock cookie is scoped to that path); `share_page` runs while the page
//! renders on the server, so it sees that cookie.

use domain::AppError;
use domain::ids::{ShareId, UploadId};
use domain::shares::ShareView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::edge::{client, state};

/// What `/s/{slug}?page=` shows; `error` is the last unlock attempt's message, if any. A file
/// request's visitor gets a token for this browser session (the cookie `Path=/s/<slug>`) if
/// they have none, so the page can list what they send.
#[server(endpoint = "share_page")]
pub async fn share_page(
    slug: String,
    error: Option<String>,
    page: Option<usize>,
) -> Result<ShareView, AppError> {
    use domain::shares::{
        ShareSlug, UNLOCK_COOKIE, VISITOR_COOKIE, link_cookie, new_visitor_token,
    };
    let cookies = request_cookies();
    let cookie = |name| link_cookie(cookies.iter().map(String::as_str), name);
    let unlock = cookie(UNLOCK_COOKIE);
    let token = cookie(VISITOR_COOKIE).unwrap_or_else(new_visitor_token);
    let state = state()?;
    let view = domain::shares::public_share(
        &state,
        &slug,
        unlock.as_deref(),
        Some(&token),
        &client(),
        error,
        page.unwrap_or(1),
    )
    .await?;
    if matches!(view, ShareView::Request(_))
        && cookie(VISITOR_COOKIE).is_none()
        && let (Some(slug), Some(response)) =
            (ShareSlug::parse(&slug), use_context::<leptos_axum::ResponseOptions>())
    {
        let secure = if state.config.is_https() { "; Secure" } else { "" };
        let value = format!(
            "{VISITOR_COOKIE}={token}; Path=/s/{}; HttpOnly; SameSite=Lax{secure}",
            slug.as_str()
        );
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
    Ok(view)
}

/// The request's `Cookie` headers (the link's unlock cookie is among them while the page renders
/// on the server).
#[cfg(feature = "ssr")]
fn request_cookies() -> Vec<String> {
    use_context::<http::request::Parts>()
        .map(|parts| {
            let values = parts.headers.get_all(http::header::COOKIE);
            values.iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

/// Page `cursor` of link `slug`'s files matching `q`, through the link's policy.
#[server(endpoint = "search_share")]
pub async fn search_share(
    slug: String,
    q: String,
    cursor: Option<String>,
) -> Result<domain::shares::ShareSearch, AppError> {
    use domain::shares::{UNLOCK_COOKIE, link_cookie};
    let query = domain::search::parse(&q)?;
    let cookies = request_cookies();
    let unlock = link_cookie(cookies.iter().map(String::as_str), UNLOCK_COOKIE);
    let state = state()?;
    domain::shares::search_share(
        &state,
        &slug,
        unlock.as_deref(),
        &client(),
        &query,
        cursor.as_deref(),
    )
    .await
}

/// Makes a link from the share form (a selection of files, or a folder).
#[server(endpoint = "create_share")]
pub async fn create_share(
    #[server(flatten)] form: domain::shares::ShareForm,
) -> Result<domain::shares::ShareDto, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::create(&state()?, &identity.user, form.new_link()?).await
}

/// Makes a file request from the request form: sizes like `25 MB`, types comma-separated
/// (`.pdf, image/*`); empty fields are no limit.
#[server(endpoint = "create_request")]
pub async fn create_request(
    #[server(flatten)] form: domain::shares::ShareForm,
) -> Result<domain::shares::ShareDto, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::create(&state()?, &identity.user, form.new_request()?).await
}

/// Page `page` of the caller's links, newest first.
#[server(endpoint = "list_shares")]
pub async fn list_shares(page: Option<u64>) -> Result<domain::shares::ShareList, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::list(&state()?, &identity.user, page.unwrap_or(1)).await
}

/// Changes link `id` from the edit form; `password` empty keeps it, `remove_password` drops it.
/// A file request's form sends its rules (`max_file_size` and the rest) instead of the
/// download limit and zip.
#[server(endpoint = "update_share")]
pub async fn update_share(
    id: ShareId,
    #[server(flatten)] form: domain::shares::ShareForm,
) -> Result<(), AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::update(&state()?, &identity.user, id, form.changes()?).await?;
    Ok(())
}

/// Turns a link off.
#[server(endpoint = "revoke_share")]
pub async fn revoke_share(id: ShareId) -> Result<(), AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::revoke(&state()?, &identity.user, id).await
}

/// Ends a visitor's upload in progress through one of the caller's file requests.
#[server(endpoint = "cancel_sending")]
pub async fn cancel_sending(id: UploadId) -> Result<(), AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::cancel_sending(&state()?, &identity.user, id).await
}

/// A link's access log, newest first.
#[server(endpoint = "share_events")]
pub async fn share_events(id: ShareId) -> Result<Vec<domain::shares::ShareEventDto>, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::events(&state()?, &identity.user, id).await
}
