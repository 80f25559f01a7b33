//! `/`: what this instance is, in the instance's own words.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error::ErrorNotice;
use crate::components::layout::SiteResource;

/// The landing page: instance name and tagline from the settings, and what Pannier does.
#[component]
pub fn HomePage() -> impl IntoView {
    let site = use_context::<SiteResource>();
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Some(SiteResource(site)) = site else {
                    return view! { <ErrorNotice error=domain::AppError::Internal/> }.into_any();
                };
                match site.await {
                    Ok(info) => view! {
                        <Title text=info.name.clone()/>
                        <section class="py-6 sm:py-12">
                            <h1 class="text-4xl font-bold tracking-tight sm:text-5xl">{info.name}</h1>
                            <p data-testid="tagline" class="mt-4 max-w-2xl text-lg text-slate-600 dark:text-slate-300">
                                {info.tagline}
                            </p>
                            <a href="/files" class="mt-8 inline-flex rounded-md bg-sky-700 px-5 py-2.5 font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600">
                                "Open your files"
                            </a>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
        <section aria-label="What Pannier does" class="grid gap-4 sm:grid-cols-3">
            <Feature title="Any size">
                "Drop in files and whole folders, from a photo to a multi-gigabyte video."
            </Feature>
            <Feature title="Links you control">
                "Share with links that expire, ask for a password or stop after a number of downloads."
            </Feature>
            <Feature title="Your server">
                "One program with nothing else to install, or many behind a load balancer."
            </Feature>
        </section>
    }
}

#[component]
fn Feature(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-slate-200 p-5 dark:border-slate-800">
            <h2 class="font-semibold">{title}</h2>
            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">{children()}</p>
        </div>
    }
}
