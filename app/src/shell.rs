//! The HTML document around the app, rendered on the server only.

use domain::state::AppState;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags};

use crate::App;
use crate::components::theme::{THEME_COOKIE, Theme};

/// Renders the document: head (meta, favicon, hashed assets, hydration) and the app.
///
/// The `<html>` element is not hydrated, so its theme class comes from the request's cookie:
/// a returning visitor gets their chosen theme on first paint, with or without JavaScript.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = use_context::<http::request::Parts>()
        .and_then(|parts| theme_of(&parts.headers))
        .map(Theme::class)
        .unwrap_or_default();
    let state = use_context::<AppState>();
    let assets =
        state.as_ref().map(|state| state.config.assets_base_url.clone()).unwrap_or_default();
    if let Some(state) = &state {
        content_security_policy(state);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en" class=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="description" content="Self-hosted file sharing and media hosting."/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="leptos" root=assets.clone()/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options root=assets/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-white text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

/// Sends the page's Content-Security-Policy with the nonce Leptos put on every inline script
/// it renders (hydration, streamed data) — a new one per response.
fn content_security_policy(state: &AppState) {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let live_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    let policy = state.config.page_policy(&nonce, live_reload);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The theme a request's cookie chose, if any: the one thing of a request besides its path, its
/// viewer and the data that shapes the document (the server's page snapshots key on it).
pub fn theme_of(headers: &http::HeaderMap) -> Option<Theme> {
    cookie(headers, THEME_COOKIE).and_then(Theme::parse)
}

/// The value of cookie `name` in the request headers, if present.
fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_others() {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::COOKIE, "a=1; pannier_theme=dark; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, "pannier_theme"), Some("dark"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
