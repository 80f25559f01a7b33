//! The public share page's data. Files, zips and the password form are plain routes under
//! `/s/{slug}/…` (the unlock cookie is scoped to that path); this server fn runs while the page
//! renders on the server, so it sees that cookie.

use domain::AppError;
use domain::shares::ShareView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::edge::{client, fail, state};

/// What `/s/{slug}` shows; `error` is the last unlock attempt's message, if any.
#[server(endpoint = "share_page")]
pub async fn share_page(slug: String, error: Option<String>) -> Result<ShareView, AppError> {
    let unlock = use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|cookies| cookies.split(';'))
            .filter_map(|cookie| cookie.trim().split_once('='))
            .find(|(name, _)| *name == domain::shares::unlock_cookie_name())
            .map(|(_, value)| value.to_owned())
    });
    let state = state()?;
    domain::shares::public_share(&state, &slug, unlock.as_deref(), &client(), error)
        .await
        .or_else(fail)
}
