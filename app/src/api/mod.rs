//! Server functions: thin edges that parse, authorize, call one `domain` service and return
//! `AppError` (never `ServerFnError`, whose text would reach the browser).

pub mod account;
pub mod admin;
pub mod auth;
pub mod files;
pub mod shares;

use domain::AppError;
use domain::site::SiteInfo;
use leptos::prelude::*;

/// The instance name and tagline. Public: shown on every page, signed in or not.
#[server(endpoint = "site_info")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    let state = edge::state()?;
    domain::settings::site_info(&state.db).await
}

/// Only a local path may be a redirect target (no open redirects): `/…` but not `//…` or `/\…`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// What every server fn needs from the request: state, caller, client, session.
#[cfg(feature = "ssr")]
pub mod edge {
    use domain::AppError;
    use domain::auth::{ClientInfo, Identity};
    use domain::state::AppState;
    use leptos::prelude::*;
    use tower_sessions::Session;

    /// The application state the server provides as context.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| {
            leptos::logging::error!("AppState missing from the server fn context");
            AppError::Internal
        })
    }

    fn extension<T: Clone + Send + Sync + 'static>() -> Option<T> {
        use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<T>().cloned())
    }

    /// The signed-in caller, if any (resolved by the server's `identify` middleware).
    pub fn identity() -> Option<Identity> {
        extension::<Identity>()
    }

    /// The signed-in caller, or `Unauthorized`.
    pub fn require_identity() -> Result<Identity, AppError> {
        identity()
            .ok_or_else(|| AppError::Unauthorized("Sign in to continue.".into()))
            .or_else(fail)
    }

    /// Peer address and user agent.
    pub fn client() -> ClientInfo {
        extension::<ClientInfo>().unwrap_or_default()
    }

    /// The browser session.
    pub fn session() -> Result<Session, AppError> {
        extension::<Session>().ok_or_else(|| {
            leptos::logging::error!("session layer missing");
            AppError::Internal
        })
    }

    /// For callers that read JSON (scripts, the hydrated UI), the error's own status code and
    /// `Retry-After`; HTML form posts keep the redirect back to the form.
    pub fn fail<T>(err: AppError) -> Result<T, AppError> {
        let wants_html = use_context::<http::request::Parts>()
            .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
            .and_then(|accept| accept.to_str().ok().map(|a| a.contains("text/html")))
            .unwrap_or(false);
        if !wants_html && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(err.status()) {
                response.set_status(status);
            }
            if let AppError::TooManyRequests { retry_after_secs, .. } = &err
                && let Ok(value) = http::HeaderValue::from_str(&retry_after_secs.to_string())
            {
                response.insert_header(http::header::RETRY_AFTER, value);
            }
        }
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(safe_next(Some("/files?x=1")), "/files?x=1");
        for bad in
            ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", ""]
        {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
