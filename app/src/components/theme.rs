//! Light/dark theme: follows the system unless the person picks one; the pick is kept in a
//! cookie so the server renders it on the next visit (no flash, works without JavaScript).

use leptos::prelude::*;

/// Cookie that remembers an explicit theme choice.
pub const THEME_COOKIE: &str = "pannier_theme";

/// An explicit theme choice; no choice means "follow the system".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Light, whatever the system says.
    Light,
    /// Dark, whatever the system says.
    Dark,
}

impl Theme {
    /// Parses a cookie value; anything else means no choice.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    /// The class on `<html>` that forces this theme (see style/tailwind.css).
    pub fn class(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// A button switching between light and dark. Disabled until the page has hydrated, because
/// it needs JavaScript; without it the system theme (or the last choice) still applies.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        <button
            type="button"
            data-testid="theme-toggle"
            class="inline-flex h-9 w-9 items-center justify-center rounded-md text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:cursor-not-allowed disabled:opacity-50 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white"
            aria-label="Toggle dark mode"
            title="Toggle dark mode"
            disabled=move || !hydrated.get()
            on:click=move |_| toggle()
        >
            // Moon in light mode, sun in dark mode: pure CSS, so server and client markup agree.
            <svg class="h-5 w-5 dark:hidden" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
                <path stroke-linecap="round" stroke-linejoin="round" d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"/>
            </svg>
            <svg class="hidden h-5 w-5 dark:block" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
                <circle cx="12" cy="12" r="4"/>
                <path stroke-linecap="round" d="M12 2v2m0 16v2M4.9 4.9l1.4 1.4m11.4 11.4 1.4 1.4M2 12h2m16 0h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>
            </svg>
        </button>
    }
}

/// Flips the effective theme, applies it to `<html>` and remembers it for a year.
#[cfg(feature = "hydrate")]
fn toggle() {
    use wasm_bindgen::JsCast;

    let Some(window) = web_sys::window() else { return };
    let Some(document) = window.document() else { return };
    let Some(root) = document.document_element() else { return };
    let classes = root.class_list();
    let system_dark = window
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches());
    let dark_now = classes.contains("dark") || (!classes.contains("light") && system_dark);
    let next = if dark_now { Theme::Light } else { Theme::Dark };
    // Failures here only mean the choice is not applied or not remembered; nothing to report.
    let _ = classes.remove_2("dark", "light");
    let _ = classes.add_1(next.class());
    if let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() {
        let cookie =
            format!("{THEME_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", next.class());
        let _ = html.set_cookie(&cookie);
    }
}

/// On the server the button is disabled and never clicked.
#[cfg(not(feature = "hydrate"))]
fn toggle() {}
