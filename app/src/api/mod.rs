//! Server functions: thin edges that parse, authorize, call one `domain` service and return
//! `AppError` (never `ServerFnError`, whose text would reach the browser).

pub mod account;
pub mod admin;
pub mod auth;
pub mod files;
pub mod search;
pub mod shares;

use domain::AppError;
use domain::site::SiteInfo;
use leptos::prelude::*;

/// The instance name and tagline. Public: shown on every page, signed in or not.
#[server(endpoint = "site_info")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    let state = edge::state()?;
    domain::settings::cached_site_info(&state).await
}

/// Only a path of our own origin may be a redirect target (no open redirects). `next` is read
/// as a browser reads a URL (WHATWG: tabs and newlines dropped, `\\` as `/`, percent forms)
/// relative to our origin, and kept only if it names a path there: never `//host`, `/\\host`,
/// `/\t/host` or `https:…`.
#[cfg(feature = "ssr")]
pub fn safe_next(next: Option<&str>) -> String {
    const OURS: &str = "http://pannier.invalid/";
    let Ok(base) = url::Url::parse(OURS) else { return "/".to_owned() };
    let local = next
        .filter(|next| next.starts_with('/'))
        .and_then(|next| base.join(next).ok())
        .filter(|url| url.origin() == base.origin())
        .map(|url| url.as_str()[OURS.len() - 1..].to_owned());
    local.unwrap_or_else(|| "/".to_owned())
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
        identity().ok_or_else(|| AppError::Unauthorized("Sign in to continue.".into()))
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
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(safe_next(Some("/files?x=1")), "/files?x=1");
        assert_eq!(safe_next(Some("/s/abc#top")), "/s/abc#top");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            "/\t\\evil.example",
            "\\\\evil.example",
            "/%5C%5Cevil.example/..",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/ /x")), "/%20/x", "odd but local paths stay local");
    }
}
