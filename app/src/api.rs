//! Server functions: thin edges that parse, authorize, call one `domain` service and return
//! `AppError` (never `ServerFnError`, whose text would reach the browser).

use domain::AppError;
use domain::site::SiteInfo;
use leptos::prelude::*;

/// The instance name and tagline. Public: shown on every page, signed in or not.
#[server(endpoint = "site_info")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    let state = state()?;
    domain::settings::site_info(&state.db).await
}

/// The application state the server provides as context to every server fn.
#[cfg(feature = "ssr")]
fn state() -> Result<domain::state::AppState, AppError> {
    use_context::<domain::state::AppState>().ok_or_else(|| {
        leptos::logging::error!("AppState missing from the server fn context");
        AppError::Internal
    })
}
