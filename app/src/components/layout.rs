//! The frame of every page: skip link, header with navigation, main area and footer.

use domain::AppError;
use domain::account::Role;
use domain::site::SiteInfo;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::api::auth::{SignOut, current_user};
use crate::api::get_site_info;
use crate::components::dropdown::Dropdown;
use crate::components::form::PlainForm;
use crate::components::quick_search::QuickSearch;
use crate::components::theme::ThemeToggle;

/// The instance's name and tagline, loaded once per page and shared through context.
#[derive(Clone, Copy)]
pub struct SiteResource(pub Resource<Result<SiteInfo, AppError>>);

/// The instance name, falling back to "Pannier" while loading or on error.
pub fn site_name() -> impl IntoView {
    let site = use_context::<SiteResource>();
    view! {
        <Suspense fallback=|| "Pannier">
            {move || Suspend::new(async move {
                match site {
                    Some(SiteResource(site)) => site.await.map(|s| s.name).unwrap_or_else(|_| "Pannier".into()),
                    None => "Pannier".into(),
                }
            })}
        </Suspense>
    }
}

/// Wraps a routed page in the header, navigation and footer.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // Blocking: the page title and header name are in the first byte the server sends.
    let site = Resource::new_blocking(|| (), |_| get_site_info());
    provide_context(SiteResource(site));
    let nav_link = "nav-link";
    view! {
        <a href="#main" class="sr-only rounded-md bg-sky-700 px-3 py-2 text-white focus:not-sr-only focus:absolute focus:left-2 focus:top-2">
            "Skip to content"
        </a>
        <div class="flex min-h-screen flex-col">
            <header class="border-b border-slate-200 dark:border-slate-800">
                <div class="mx-auto flex max-w-5xl items-center justify-between gap-2 px-4 py-3">
                    <a href="/" class="flex items-center gap-2 rounded-md text-lg font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-sky-600">
                        <Logo/>
                        <span class="sr-only sm:not-sr-only">{site_name()}</span>
                    </a>
                    <nav aria-label="Main" class="flex items-center gap-0 sm:gap-1">
                        // On phones the logo is the way home; the room goes to the account entries.
                        <span class="hidden sm:contents"><A href="/" attr:class=nav_link exact=true>"Home"</A></span>
                        <AccountNav link_class=nav_link/>
                        <ThemeToggle/>
                    </nav>
                </div>
            </header>
            <main id="main" class="mx-auto w-full max-w-5xl flex-1 px-4 py-10">
                {children()}
            </main>
            <footer class="border-t border-slate-200 text-sm text-slate-500 dark:border-slate-800 dark:text-slate-400">
                <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-4">
                    <span>"Pannier " {env!("CARGO_PKG_VERSION")} " · self-hosted file sharing"</span>
                    <span>"Your files stay on your server."</span>
                </div>
            </footer>
        </div>
    }
}

/// Sign in / sign up, or the account, admin and sign-out entries. Refetched on every
/// navigation, so signing in or out shows at once.
#[component]
fn AccountNav(link_class: &'static str) -> impl IntoView {
    let location = use_location();
    let user = Resource::new_blocking(
        move || (location.pathname.get(), location.search.get()),
        |_| current_user(),
    );
    // `Transition`: the current entries stay while a navigation refetches, so nothing jumps.
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        let admin = user.role == Role::Admin;
                        view! {
                            // Phones get the results page; wider screens the box with results as you type.
                            <span class="contents sm:hidden">
                                <A href="/search" attr:class=link_class attr:aria-label="Search" attr:title="Search your files">
                                    <svg class="h-5 w-5" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
                                        <circle cx="11" cy="11" r="7"/><path stroke-linecap="round" d="m20 20-3.5-3.5"/>
                                    </svg>
                                </A>
                            </span>
                            <QuickSearch/>
                            <span class="hidden sm:contents"><SignedInLinks link_class admin/></span>
                            <PhoneMenu><SignedInLinks link_class="menu-link" admin/></PhoneMenu>
                        }.into_any()
                    }
                    _ => {
                        // Visitors of a link came for its files, not for an account here.
                        let on_link = location.pathname.get_untracked().starts_with("/s/");
                        let open = match use_context::<SiteResource>() {
                            Some(SiteResource(site)) => site.await.is_ok_and(|s| s.open_registration),
                            None => false,
                        };
                        view! {
                            {(!on_link || open).then(|| view! { <A href="/sign-in" attr:class=link_class>"Sign in"</A> })}
                            {open.then(|| view! { <A href="/sign-up" attr:class=link_class>"Sign up"</A> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A signed-in person's places, and signing out.
#[component]
fn SignedInLinks(link_class: &'static str, admin: bool) -> impl IntoView {
    view! {
        <A href="/files" attr:class=link_class>"Files"</A>
        <A href="/shares" attr:class=link_class>"Shares"</A>
        <A href="/account" attr:class=link_class>"Account"</A>
        {admin.then(|| view! { <A href="/admin" attr:class=link_class>"Admin"</A> })}
        <PlainForm action=SignOut::PATH>
            <button type="submit" class=link_class>"Sign out"</button>
        </PlainForm>
    }
}

/// The navigation behind a menu button on phones, where the header has room for little else.
#[component]
fn PhoneMenu(children: Children) -> impl IntoView {
    view! {
        <Dropdown label="Menu" class="sm:hidden" summary_class="nav-link".to_owned()
            panel_class="right-0 mt-2 flex w-56 flex-col rounded-xl border border-slate-200 bg-white p-2 shadow-lg dark:border-slate-700 dark:bg-slate-900"
            button=ViewFn::from(|| view! {
                <svg class="h-5 w-5" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
                    <path stroke-linecap="round" d="M4 7h16M4 12h16M4 17h16"/>
                </svg>
            })>
            {children()}
        </Dropdown>
    }
}

/// The Pannier mark: a bicycle pannier bag.
#[component]
fn Logo() -> impl IntoView {
    view! {
        <svg class="h-7 w-7 text-sky-600 dark:text-sky-400" viewBox="0 0 32 32" fill="none" stroke="currentColor" stroke-width="2.2" aria-hidden="true">
            <path stroke-linecap="round" d="M9 9V6a3 3 0 0 1 3-3h8a3 3 0 0 1 3 3v3"/>
            <rect x="5" y="9" width="22" height="19" rx="4"/>
            <path stroke-linecap="round" d="M5 16h22M14 16v4h4v-4"/>
        </svg>
    }
}
