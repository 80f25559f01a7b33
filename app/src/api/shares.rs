//! Server functions for share links: the owner's forms (create, list, edit, revoke, access
//! log) and the public page's data. Files, zips and the password form are plain routes under
//! `/s/{slug}/…` (the unlock cookie is scoped to that path); `share_page` runs while the page
//! renders on the server, so it sees that cookie.

// `allow`, not `expect`: the lint fires on the code `#[server]` generates, in one build only.
#![allow(clippy::too_many_arguments, reason = "form server fns take one argument per field")]

use domain::AppError;
use domain::shares::ShareView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::edge::{client, fail, state};

/// What `/s/{slug}` shows; `error` is the last unlock attempt's message, if any.
#[server(endpoint = "share_page")]
pub async fn share_page(slug: String, error: Option<String>) -> Result<ShareView, AppError> {
    let unlock = use_context::<http::request::Parts>().and_then(|parts| {
        let cookies = parts.headers.get_all(http::header::COOKIE);
        domain::shares::unlock_cookie(cookies.iter().filter_map(|value| value.to_str().ok()))
    });
    let state = state()?;
    domain::shares::public_share(&state, &slug, unlock.as_deref(), &client(), error)
        .await
        .or_else(fail)
}

/// Makes a link from the share form: comma-separated `file_ids`, or `folder_id`; `expires` is
/// a preset (`never`, `1h`, `1d`, `7d`, `30d`, `date` with `expires_on`); empty fields are unset.
#[server(endpoint = "create_share")]
pub async fn create_share(
    file_ids: String,
    folder_id: String,
    label: String,
    expires: String,
    expires_on: Option<String>,
    password: String,
    max_downloads: String,
    allow_zip: Option<String>,
) -> Result<domain::shares::ShareDto, AppError> {
    use domain::shares::{NewShare, expiry_from_form};
    let identity = super::edge::require_identity()?;
    let new = NewShare {
        file_ids: file_ids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect(),
        folder_id: Some(folder_id).filter(|id| !id.is_empty()),
        label: Some(label),
        expires_at: expiry_from_form(&expires, expires_on.as_deref()).or_else(fail)?,
        password: Some(password).filter(|p| !p.is_empty()).map(Into::into),
        max_downloads: limit(&max_downloads).or_else(fail)?,
        allow_zip: allow_zip.is_some(),
    };
    domain::shares::create(&state()?, &identity.user, new).await.or_else(fail)
}

/// The caller's links, newest first.
#[server(endpoint = "list_shares")]
pub async fn list_shares() -> Result<Vec<domain::shares::ShareDto>, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::list(&state()?, &identity.user).await.or_else(fail)
}

/// Changes a link from the edit form; `password` empty keeps it, `remove_password` drops it.
#[server(endpoint = "update_share")]
pub async fn update_share(
    id: String,
    label: String,
    expires: String,
    expires_on: Option<String>,
    password: String,
    remove_password: Option<String>,
    max_downloads: String,
    allow_zip: Option<String>,
) -> Result<(), AppError> {
    use domain::shares::{ShareChanges, expiry_from_form};
    let identity = super::edge::require_identity()?;
    let password = match (remove_password.is_some(), password.is_empty()) {
        (true, _) => Some(None),
        (false, false) => Some(Some(password.into())),
        (false, true) => None,
    };
    let changes = ShareChanges {
        label: Some(Some(label)),
        expires_at: (expires != "keep")
            .then(|| expiry_from_form(&expires, expires_on.as_deref()))
            .transpose()
            .or_else(fail)?,
        password,
        max_downloads: Some(limit(&max_downloads).or_else(fail)?),
        allow_zip: Some(allow_zip.is_some()),
    };
    domain::shares::update(&state()?, &identity.user, &id, changes).await.or_else(fail)?;
    Ok(())
}

/// Turns a link off.
#[server(endpoint = "revoke_share")]
pub async fn revoke_share(id: String) -> Result<(), AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::revoke(&state()?, &identity.user, &id).await.or_else(fail)
}

/// A link's access log, newest first.
#[server(endpoint = "share_events")]
pub async fn share_events(id: String) -> Result<Vec<domain::shares::ShareEventDto>, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::events(&state()?, &identity.user, &id).await.or_else(fail)
}

/// An optional download limit from a form field.
#[cfg(feature = "ssr")]
fn limit(value: &str) -> Result<Option<u64>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        AppError::invalid("max_downloads", "Type a number of downloads, or leave it empty.")
    })
}
