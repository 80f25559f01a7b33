//! Pages behind sign-in: render the data, or send a signed-out visitor to the sign-in page and
//! back here afterwards.

use domain::AppError;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::components::error::ErrorNotice;

/// `render(data)` when loaded; a redirect to `/sign-in?next=…` when signed out; otherwise the
/// error with what to do next.
pub fn signed_in<T, V>(result: Result<T, AppError>, render: impl FnOnce(T) -> V) -> AnyView
where
    V: IntoView + 'static,
{
    match result {
        Ok(data) => render(data).into_any(),
        Err(AppError::Unauthorized(_)) => {
            let path = use_location().pathname.get_untracked();
            view! { <Redirect path=format!("/sign-in?next={}", encode(&path))/> }.into_any()
        }
        Err(error) => {
            answer_with(&error);
            view! { <ErrorNotice error/> }.into_any()
        }
    }
}

/// Makes the page answer with `error`'s status (404 for someone else's file, 410 for an
/// expired link, …) while it renders on the server.
pub fn answer_with(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(error.status()))
    {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// Percent-encodes a path for a query value.
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
