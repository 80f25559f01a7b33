//! The WASM entry point: hydrates the server-rendered page, and loads it again when a lazy
//! route's module cannot be fetched. Nothing else lives here.

// The app's view type is deep; hydrating it asynchronously nests it once more.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script once the bundle has loaded. Lazy: the page's own WASM chunk
/// (see `app::App`) is awaited before its part of the page is hydrated.
#[wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        if info.to_string().contains(FAILED_MODULE_LOAD) {
            reload();
        }
    }));
    leptos::mount::hydrate_lazy(app::App);
}

/// What the split loader (`wasm_split_helpers`, under Leptos 0.8's lazy routes) panics with
/// when a route's module cannot be fetched — after a deploy, a tab still open names files of
/// the previous build; on a flaky network a fetch fails.
const FAILED_MODULE_LOAD: &str = "load callback should succeed";

/// Loads the page again, so the server renders it and names the modules of the build it
/// serves; the bundle that panicked stops here. Once a minute at most (the tab's session
/// storage keeps the time), so a module that keeps failing never loops.
fn reload() {
    const KEY: &str = "pannier-reloaded-at";
    let Some(window) = web_sys::window() else { return };
    let now = js_sys::Date::now();
    if let Ok(Some(storage)) = window.session_storage() {
        let last = storage.get_item(KEY).ok().flatten().and_then(|at| at.parse::<f64>().ok());
        if last.is_some_and(|at| now - at < 60_000.0) {
            return;
        }
        let _ = storage.set_item(KEY, &now.to_string());
    }
    let _ = window.location().reload();
}
