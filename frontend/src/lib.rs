//! The WASM entry point: hydrates the server-rendered page. Nothing else lives here.

// The app's view type is deep; hydrating it asynchronously nests it once more.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the hydration script once the bundle has loaded. Lazy: the page's own WASM chunk
/// (see `app::App`) is awaited before its part of the page is hydrated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
