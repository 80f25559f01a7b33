//! The page for any address that matches no route; answered with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

/// "Page not found", with the way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <section class="py-12 text-center">
            <p class="text-sm font-semibold text-sky-700 dark:text-sky-400">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight sm:text-4xl">"Page not found"</h1>
            <p class="mx-auto mt-4 max-w-md text-slate-600 dark:text-slate-300">
                "Nothing lives at this address. Check it for typos, or start again from the home page."
            </p>
            <a href="/" class="mt-8 inline-block rounded-md bg-sky-700 px-4 py-2 font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600">
                "Go to the home page"
            </a>
        </section>
    }
}
