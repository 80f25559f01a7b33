//! Pannier's user interface: the page shell, routes, pages, components and the server functions
//! they call. Compiled twice: with `ssr` into the server, with `hydrate` into the WASM bundle.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;
#[cfg(feature = "ssr")]
mod shell;

use leptos::prelude::*;
use leptos_meta::provide_meta_context;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, path};

use crate::components::layout::Layout;
use crate::pages::account::AccountPage;
use crate::pages::admin::AdminPage;
use crate::pages::admin_accounts::AdminAccountsPage;
use crate::pages::admin_audit::AdminAuditPage;
use crate::pages::admin_status::AdminStatusPage;
use crate::pages::file::FilePage;
use crate::pages::files::FilesPage;
use crate::pages::reset_password::ResetPasswordPage;
use crate::pages::search::SearchPage;
use crate::pages::share::SharePage;
use crate::pages::shares::SharesPage;
use crate::pages::sign_in::{SignInPage, SignUpPage};
use crate::pages::{home::HomePage, not_found::NotFound};

#[cfg(feature = "ssr")]
pub use shell::{shell, theme_of};

/// The whole application: meta context, router and layout around the routed page.
///
/// No route streams out of order (that would need a script to swap content in): pages render
/// `InOrder`, every `Suspense` resolved in place, so they are complete without JavaScript.
/// Pages whose title or status depends on data render `Async`: nothing is sent before the data,
/// so the `<title>` is always there and a signed-out visitor gets a real 302 to sign in.
///
/// Every page is a lazy route: its code is in a WASM module of its group (`chunks`, cut by
/// `cargo leptos --split`), fetched with the page (the server names its files in preload
/// links) or on the first navigation to it, so a visitor of a share page never downloads the
/// file manager.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view={Lazy::<Home>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("sign-in") view={Lazy::<SignIn>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("sign-up") view={Lazy::<SignUp>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("reset-password") view={Lazy::<ResetPassword>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("account") view={Lazy::<Account>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin") view={Lazy::<Admin>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/users") view={Lazy::<AdminAccounts>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/audit") view={Lazy::<AdminAudit>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/status") view={Lazy::<AdminStatus>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("files") view={Lazy::<Files>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("files/:id") view={Lazy::<Files>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("file/:id") view={Lazy::<File>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("s/:slug") view={Lazy::<Share>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("shares") view={Lazy::<Shares>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("search") view={Lazy::<Search>::new()} ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// The pages whose code is fetched together, as one WASM module each: what a visitor of a link
/// needs, the other public pages, the owner's pages, the admin's. A route per module would
/// cut finer, but code shared by any set of routes becomes a file of its own: 14 routes made
/// ~200 files, 45–135 per page, each a round trip on HTTP/1.1. Four groups make at most
/// 8 per page.
mod chunks {
    use super::*;

    /// Names group `name`'s WASM files in `<link rel="preload">` tags of the page's head, so
    /// they download beside the main module. (On the server the groups are plain functions:
    /// Leptos' own preloads for `#[lazy]` functions look their manifest up outside the
    /// request's reactive owner, and went missing on some requests.)
    #[cfg(feature = "ssr")]
    pub fn preload(name: &str) {
        use leptos_meta::Link;
        let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else { return };
        let Some(manifest) = manifest.0.try_read_value() else { return };
        let (pkg, modules, loader) = &*manifest;
        // Keys are the `#[lazy]` function's name, `_` and a hash of where it is written.
        let Some(files) = modules
            .iter()
            .find_map(|(key, files)| (key.rsplit_once('_')?.0 == name).then_some(files))
        else {
            return;
        };
        // Leptos puts the nonce in `crossorigin` (any value there means "anonymous"); the
        // same here, so these preloads match the fetches of its loader.
        let nonce = leptos::nonce::use_nonce().map(|n| n.to_string()).unwrap_or_default();
        for file in files {
            let _ = view! {
                <Link rel="preload" href=format!("{pkg}/{file}.wasm") as_="fetch" type_="application/wasm" crossorigin=nonce.clone()/>
            }
            .to_html();
        }
        let _ =
            view! { <Link rel="modulepreload" href=format!("{pkg}/{loader}") crossorigin=nonce/> }
                .to_html();
    }

    // Each group's pages, passed across the module boundary as a byte.

    /// A share link's page.
    #[derive(Clone, Copy)]
    #[repr(u8)]
    pub enum Visitor {
        Share,
    }

    /// The other pages a signed-out visitor opens.
    #[derive(Clone, Copy)]
    #[repr(u8)]
    pub enum Public {
        Home,
        SignIn,
        SignUp,
        ResetPassword,
    }

    /// The pages of an account's own files.
    #[derive(Clone, Copy)]
    #[repr(u8)]
    pub enum Owner {
        Files,
        File,
        Shares,
        Search,
        Account,
    }

    /// The admin's pages.
    #[derive(Clone, Copy)]
    #[repr(u8)]
    pub enum Administration {
        Admin,
        Accounts,
        Audit,
        Status,
    }

    #[cfg_attr(feature = "hydrate", lazy)]
    pub fn visitor(page: Visitor) -> AnyView {
        match page {
            Visitor::Share => view! { <SharePage/> }.into_any(),
        }
    }

    #[cfg_attr(feature = "hydrate", lazy)]
    pub fn public(page: Public) -> AnyView {
        match page {
            Public::Home => view! { <HomePage/> }.into_any(),
            Public::SignIn => view! { <SignInPage/> }.into_any(),
            Public::SignUp => view! { <SignUpPage/> }.into_any(),
            Public::ResetPassword => view! { <ResetPasswordPage/> }.into_any(),
        }
    }

    #[cfg_attr(feature = "hydrate", lazy)]
    pub fn owner(page: Owner) -> AnyView {
        match page {
            Owner::Files => view! { <FilesPage/> }.into_any(),
            Owner::File => view! { <FilePage/> }.into_any(),
            Owner::Shares => view! { <SharesPage/> }.into_any(),
            Owner::Search => view! { <SearchPage/> }.into_any(),
            Owner::Account => view! { <AccountPage/> }.into_any(),
        }
    }

    #[cfg_attr(feature = "hydrate", lazy)]
    pub fn administration(page: Administration) -> AnyView {
        match page {
            Administration::Admin => view! { <AdminPage/> }.into_any(),
            Administration::Accounts => view! { <AdminAccountsPage/> }.into_any(),
            Administration::Audit => view! { <AdminAuditPage/> }.into_any(),
            Administration::Status => view! { <AdminStatusPage/> }.into_any(),
        }
    }
}

/// Declares lazy routes: `Route => group(Page), preload_fn` — the route's view is `Page` of
/// its group's module, which the router fetches (`preload`) before it navigates there. The
/// pages load their own data, so a route's data half is empty.
macro_rules! lazy_routes {
    ($($route:ident => $group:ident($page:expr), $preload:ident;)*) => {$(
        #[doc = concat!("The lazy route of `", stringify!($page), "`.")]
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                #[cfg(feature = "hydrate")]
                let page = chunks::$group($page).await;
                #[cfg(not(feature = "hydrate"))]
                let page = {
                    chunks::preload(stringify!($group));
                    chunks::$group($page)
                };
                page
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                chunks::$preload().await;
            }
        }
    )*};
}

lazy_routes! {
    Share => visitor(chunks::Visitor::Share), __preload_visitor;
    Home => public(chunks::Public::Home), __preload_public;
    SignIn => public(chunks::Public::SignIn), __preload_public;
    SignUp => public(chunks::Public::SignUp), __preload_public;
    ResetPassword => public(chunks::Public::ResetPassword), __preload_public;
    Files => owner(chunks::Owner::Files), __preload_owner;
    File => owner(chunks::Owner::File), __preload_owner;
    Shares => owner(chunks::Owner::Shares), __preload_owner;
    Search => owner(chunks::Owner::Search), __preload_owner;
    Account => owner(chunks::Owner::Account), __preload_owner;
    Admin => administration(chunks::Administration::Admin), __preload_administration;
    AdminAccounts => administration(chunks::Administration::Accounts), __preload_administration;
    AdminAudit => administration(chunks::Administration::Audit), __preload_administration;
    AdminStatus => administration(chunks::Administration::Status), __preload_administration;
}
