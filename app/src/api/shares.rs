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
    let cookies: Vec<String> = use_context::<http::request::Parts>()
        .map(|parts| {
            let values = parts.headers.get_all(http::header::COOKIE);
            values.iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
        })
        .unwrap_or_default();
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
        expires_at: expiry_from_form(&expires, expires_on.as_deref())?,
        password: Some(password).filter(|p| !p.is_empty()).map(Into::into),
        max_downloads: limit(&max_downloads, "max_downloads")?,
        allow_zip: allow_zip.is_some(),
        request: None,
    };
    domain::shares::create(&state()?, &identity.user, new).await
}

/// Makes a file request into `folder_id` from the request form: sizes like `25 MB`, types
/// comma-separated (`.pdf, image/*`); empty fields are no limit.
#[server(endpoint = "create_request")]
pub async fn create_request(
    folder_id: String,
    label: String,
    expires: String,
    expires_on: Option<String>,
    password: String,
    max_file_size: String,
    max_total_bytes: String,
    max_files: String,
    allowed_types: String,
) -> Result<domain::shares::ShareDto, AppError> {
    use domain::shares::{NewShare, expiry_from_form};
    let identity = super::edge::require_identity()?;
    let rules = rules_from_form(&max_file_size, &max_total_bytes, &max_files, &allowed_types)?;
    let new = NewShare {
        folder_id: Some(folder_id),
        label: Some(label),
        expires_at: expiry_from_form(&expires, expires_on.as_deref())?,
        password: Some(password).filter(|p| !p.is_empty()).map(Into::into),
        request: Some(rules),
        ..NewShare::default()
    };
    domain::shares::create(&state()?, &identity.user, new).await
}

/// Page `page` of the caller's links, newest first.
#[server(endpoint = "list_shares")]
pub async fn list_shares(page: Option<u64>) -> Result<domain::shares::ShareList, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::list(&state()?, &identity.user, page.unwrap_or(1)).await
}

/// Changes a link from the edit form; `password` empty keeps it, `remove_password` drops it.
/// A file request's form sends its rules (`max_file_size` and the rest) instead of the
/// download limit and zip.
#[server(endpoint = "update_share")]
pub async fn update_share(
    id: String,
    label: String,
    expires: String,
    expires_on: Option<String>,
    password: String,
    remove_password: Option<String>,
    max_downloads: Option<String>,
    allow_zip: Option<String>,
    max_file_size: Option<String>,
    max_total_bytes: Option<String>,
    max_files: Option<String>,
    allowed_types: Option<String>,
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
            .transpose()?,
        password,
        ..ShareChanges::default()
    };
    let changes = match max_downloads {
        Some(max) => ShareChanges {
            max_downloads: Some(limit(&max, "max_downloads")?),
            allow_zip: Some(allow_zip.is_some()),
            ..changes
        },
        None => {
            let field = |value: &Option<String>| value.clone().unwrap_or_default();
            let rules = rules_from_form(
                &field(&max_file_size),
                &field(&max_total_bytes),
                &field(&max_files),
                &field(&allowed_types),
            )?;
            ShareChanges { request: Some(rules), ..changes }
        }
    };
    domain::shares::update(&state()?, &identity.user, &id, changes).await?;
    Ok(())
}

/// Turns a link off.
#[server(endpoint = "revoke_share")]
pub async fn revoke_share(id: String) -> Result<(), AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::revoke(&state()?, &identity.user, &id).await
}

/// Ends a visitor's upload in progress through one of the caller's file requests.
#[server(endpoint = "cancel_sending")]
pub async fn cancel_sending(id: String) -> Result<(), AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::cancel_sending(&state()?, &identity.user, &id).await
}

/// A link's access log, newest first.
#[server(endpoint = "share_events")]
pub async fn share_events(id: String) -> Result<Vec<domain::shares::ShareEventDto>, AppError> {
    let identity = super::edge::require_identity()?;
    domain::shares::events(&state()?, &identity.user, &id).await
}

/// An optional count (downloads, files) from a form field.
#[cfg(feature = "ssr")]
fn limit(value: &str, field: &str) -> Result<Option<u64>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| AppError::invalid(field, "Type a whole number, or leave it empty."))
}

/// An optional size (`25 MB`, `2 GB`) from a form field.
#[cfg(feature = "ssr")]
fn size(value: &str, field: &str) -> Result<Option<u64>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse::<domain::config::ByteSize>()
        .map(|size| Some(size.bytes()))
        .map_err(|_| AppError::invalid(field, "Type a size like 25 MB or 2 GB, or leave it empty."))
}

/// A file request's rules from its form.
#[cfg(feature = "ssr")]
fn rules_from_form(
    max_file_size: &str,
    max_total_bytes: &str,
    max_files: &str,
    allowed_types: &str,
) -> Result<domain::shares::RequestRules, AppError> {
    Ok(domain::shares::RequestRules {
        max_file_size: size(max_file_size, "max_file_size")?,
        max_total_bytes: size(max_total_bytes, "max_total_bytes")?,
        max_files: limit(max_files, "max_files")?,
        allowed_types: allowed_types.split([',', ' ']).map(str::to_owned).collect(),
    })
}
