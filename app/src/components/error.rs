//! Showing an `AppError` to a person: what happened and what to do next.

use domain::AppError;
use leptos::prelude::*;

/// A notice for a failed load, with a hint on what to do next.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let hint = match error {
        AppError::BadRequest(_)
        | AppError::Invalid { .. }
        | AppError::Conflict(_)
        | AppError::UnsupportedMediaType(_) => "Check what you entered and try again.",
        AppError::ChecksumMismatch(_) => "The bytes were damaged on the way; send them again.",
        AppError::Unauthorized(_) => "Sign in and try again.",
        AppError::Forbidden(_) => "Ask an admin if you need access.",
        AppError::NotFound(_) => "It may have been moved or deleted.",
        AppError::Gone(_) => "Ask the person who shared it for a new link.",
        AppError::TooLarge(_) => "Split it up, or ask an admin to raise the size limit.",
        AppError::RequestTooLarge(_) | AppError::HeadersTooLarge(_) => "Send less at once.",
        AppError::QuotaExceeded(_) => {
            "Delete files you no longer need, or ask an admin for more space."
        }
        AppError::TooManyRequests { .. } | AppError::Overloaded { .. } => {
            "Wait a little, then try again."
        }
        AppError::Unavailable(_) | AppError::Internal => "Reload the page in a moment.",
    };
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
            <p class="font-medium">{error.to_string()}</p>
            <p class="mt-1 text-sm">{hint}</p>
        </div>
    }
}
