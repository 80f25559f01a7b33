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
use leptos_router::{SsrMode, path};

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
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("sign-in") view=SignInPage ssr=SsrMode::InOrder/>
                    <Route path=path!("sign-up") view=SignUpPage ssr=SsrMode::InOrder/>
                    <Route path=path!("reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/users") view=AdminAccountsPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/audit") view=AdminAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/status") view=AdminStatusPage ssr=SsrMode::Async/>
                    <Route path=path!("files") view=FilesPage ssr=SsrMode::Async/>
                    <Route path=path!("files/:id") view=FilesPage ssr=SsrMode::Async/>
                    <Route path=path!("file/:id") view=FilePage ssr=SsrMode::Async/>
                    <Route path=path!("s/:slug") view=SharePage ssr=SsrMode::Async/>
                    <Route path=path!("shares") view=SharesPage ssr=SsrMode::Async/>
                    <Route path=path!("search") view=SearchPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
