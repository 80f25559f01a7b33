//! Share links, the owner's side: the form that makes a link (on the file page and for a
//! folder), and `/shares`, every link (file requests too) with its state, counts, copy, edit,
//! revoke and access log.

use domain::AppError;
use domain::files::human_size;
use domain::shares::{SendingDto, ShareDto, ShareList, ShareState};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::shares::{
    CancelSending, CreateShare, RevokeShare, UpdateShare, list_shares, share_events,
};
use crate::components::dialog::{Buttons, Dialog};
use crate::components::form::{DANGER, DANGER_SOLID, FormError};
use crate::components::guard::signed_in;
use crate::components::words::{self, Time};
use crate::pages::requests::RuleFields;

const BUTTON: &str = "rounded-md border border-slate-300 px-3 py-2 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-600 dark:border-slate-700 dark:hover:bg-slate-800";
pub(crate) const PRIMARY: &str = "rounded-md bg-sky-700 px-3 py-2 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600";

/// The form that makes a link to `files` (comma-separated ids) or to `folder`.
#[component]
pub fn ShareForm(
    #[prop(into, optional)] files: Signal<String>,
    #[prop(into, optional)] folder: Signal<String>,
) -> impl IntoView {
    let create = ServerAction::<CreateShare>::new();
    let outcome = Signal::derive(move || create.value().get().map(|r| r.map(drop)));
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <ActionForm action=create attr:class="space-y-3" attr:data-testid="share-form">
            <input type="hidden" name="file_ids" prop:value=move || files.get()/>
            <input type="hidden" name="folder_id" prop:value=move || folder.get()/>
            <FormError outcome/>
            <LinkSettings outcome expires="7d" label=String::new() downloads=Some((String::new(), true))/>
            // The input inside its label: a page can hold several of these forms, so no ids.
            <label class="block text-sm font-medium">"Password " <span class="font-normal text-slate-500 dark:text-slate-400">"(optional)"</span>
                <input name="password" type="password" autocomplete="new-password" class="field mt-1"/>
            </label>
            // Once made, the link is shown in place of the button: a second click cannot make a
            // second link by mistake; "Make another" asks for one on purpose.
            {move || match created() {
                None => view! { <button type="submit" class=PRIMARY>"Create link"</button> }.into_any(),
                Some(share) => view! {
                    <LinkBox url=share.url/>
                    <button type="button" class=BUTTON on:click=move |_| create.value().set(None)>"Make another link"</button>
                }.into_any(),
            }}
        </ActionForm>
    }
}

/// Label, expiry, and — for a link to files, given as `(limit, zip)` — the download limit and
/// zip: the settings every link form shares.
#[component]
pub(crate) fn LinkSettings(
    outcome: Signal<Option<Result<(), AppError>>>,
    expires: &'static str,
    label: String,
    downloads: Option<(String, bool)>,
) -> impl IntoView {
    let error = move |field: &'static str| {
        move || outcome.get().and_then(Result::err).and_then(|e| e.field_message(field))
    };
    let choices = [
        ("keep", "Keep as it is"),
        ("never", "Never expires"),
        ("1h", "In 1 hour"),
        ("1d", "In 1 day"),
        ("7d", "In 7 days"),
        ("30d", "In 30 days"),
        ("date", "On a date…"),
    ];
    view! {
        <div>
            <label class="mb-1 block text-sm font-medium">"Title " <span class="font-normal text-slate-500 dark:text-slate-400">"(shown on the link’s page)"</span>
                <input name="label" value=label class="field"/>
            </label>
        </div>
        <div class="grid gap-3 sm:grid-cols-2">
            <label class="block text-sm font-medium">"Expires"
                <select name="expires" class="field">
                    {choices.into_iter().filter(|(value, _)| *value != "keep" || expires == "keep").map(|(value, text)| {
                        view! { <option value=value selected=value == expires>{text}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="block text-sm font-medium">"Date " <span class="font-normal text-slate-500 dark:text-slate-400">"(for “on a date”)"</span>
                <input name="expires_on" type="date" class="field"/>
            </label>
        </div>
        <p class="text-sm text-red-700 dark:text-red-400">{error("expires")}{error("expires_on")}</p>
        {downloads.map(|(max_downloads, allow_zip)| view! {
            <label class="block text-sm font-medium">"Download limit " <span class="font-normal text-slate-500 dark:text-slate-400">"(empty: no limit)"</span>
                <input name="max_downloads" type="number" min="1" value=max_downloads class="field"/>
            </label>
            <p class="text-sm text-red-700 dark:text-red-400">{error("max_downloads")}</p>
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" name="allow_zip" value="on" checked=allow_zip class="h-4 w-4"/>
                "Offer “download all as zip”"
            </label>
        })}
    }
}

/// A link, selectable, with a copy button.
#[component]
pub(crate) fn LinkBox(url: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = url.clone();
    view! {
        <div class="flex gap-2" data-testid="share-link">
            <label class="sr-only" for=format!("link-{url}")>"Link"</label>
            <input id=format!("link-{url}") readonly value=url class="field" on:focus=move |ev| select_all(&ev)/>
            <button type="button" class=BUTTON on:click=move |_| { copy(&text); copied.set(true); }>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

/// `/shares?page=`: the signed-in person's links, 50 a page.
#[component]
pub fn SharesPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeShare>::new();
    let update = ServerAction::<UpdateShare>::new();
    let cancel = ServerAction::<CancelSending>::new();
    let query = use_query_map();
    let links = Resource::new_blocking(
        move || {
            let page = query.get().get("page").and_then(|page| page.parse().ok());
            let versions = revoke.version().get() + update.version().get() + cancel.version().get();
            (versions, page)
        },
        |(_, page)| list_shares(page),
    );
    view! {
        <Title text="Shares"/>
        <h1 class="mb-6 text-2xl font-bold">"Shared links"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                signed_in(links.await, move |list| {
                    let ShareList { shares: links, page, pages } = list;
                    if links.is_empty() {
                        return view! {
                            <p class="rounded-xl border border-slate-200 p-8 text-center text-slate-600 dark:border-slate-800 dark:text-slate-400">
                                "No links yet. Open a file or a folder and choose “Share”, or “Request files” in a folder."
                            </p>
                        }.into_any();
                    }
                    view! {
                        <ul class="space-y-4" data-testid="share-list">
                            {links.into_iter().map(|share| view! { <Link share revoke update cancel/> }).collect_view()}
                        </ul>
                        {(pages > 1).then(|| view! {
                            <nav aria-label="Pages" class="mt-4 flex items-center justify-between gap-2 text-sm">
                                {(page > 1).then(|| view! { <a class=BUTTON href=format!("?page={}", page - 1) rel="prev">"← Newer"</a> })}
                                <span class="text-slate-600 dark:text-slate-400">{format!("Page {page} of {pages}")}</span>
                                {(page < pages).then(|| view! { <a class=BUTTON href=format!("?page={}", page + 1) rel="next">"Older →"</a> })}
                            </nav>
                        })}
                    }.into_any()
                })
            })}
        </Transition>
    }
}

/// Where a link stands, as a coloured badge.
#[component]
pub(crate) fn StateBadge(share: ShareDto) -> impl IntoView {
    let (badge, tone) = match share.state {
        ShareState::Active => {
            ("Active", "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200")
        }
        ShareState::Expired => {
            ("Expired", "bg-slate-200 text-slate-800 dark:bg-slate-800 dark:text-slate-200")
        }
        ShareState::LimitReached => (
            if share.request.is_some() { "Full" } else { "Download limit reached" },
            "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-100",
        ),
        ShareState::Revoked => {
            ("Revoked", "bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200")
        }
    };
    view! { <span class=format!("shrink-0 rounded-full px-2 py-0.5 text-xs font-medium {tone}")>{badge}</span> }
}

/// A link's figures on one line: views, downloads (or what a request received), expiry, last
/// opened, password.
#[component]
pub(crate) fn Facts(share: ShareDto) -> impl IntoView {
    let downloads = match (&share.request, share.max_downloads) {
        (Some(request), _) => {
            let files = match request.max_files {
                Some(max) => format!("{} of {max} files", request.received_files),
                None => words::count(request.received_files, "file", "files"),
            };
            format!("{files} received ({})", human_size(request.received_bytes))
        }
        (None, Some(max)) => format!("{} of {max} downloads", share.downloads),
        (None, None) => words::count(share.downloads, "download", "downloads"),
    };
    let counts = format!("{} · {downloads}", words::count(share.views, "view", "views"));
    let expires = share.expires_at.map(|at| view! { " · expires " <Time at/> });
    let opened = share.last_access_at.map(|at| view! { " · last opened " <Time at/> });
    view! { {counts} {expires} {opened} {share.has_password.then_some(" · password")} }
}

#[component]
fn Link(
    share: ShareDto,
    revoke: ServerAction<RevokeShare>,
    update: ServerAction<UpdateShare>,
    cancel: ServerAction<CancelSending>,
) -> impl IntoView {
    let title = share.title.clone();
    let revoke_note = if share.request.is_some() {
        "Nobody can send files with it any more; what was sent stays in your files. This cannot be undone: to ask again, make a new request."
    } else {
        "Everyone who has the link loses access at once. This cannot be undone: to share again, make a new link."
    };
    let kind = share.request.as_ref().map(|_| view! {
        <span class="ml-2 rounded-full bg-sky-100 px-2 py-0.5 text-xs font-medium text-sky-900 dark:bg-sky-950 dark:text-sky-200">"File request"</span>
    });
    let active = share.state != ShareState::Revoked;
    let outcome = Signal::derive(move || update.value().get());
    let (id, edit_id) = (share.id.to_string(), share.id.to_string());
    let download_settings = share
        .request
        .is_none()
        .then(|| (share.max_downloads.map(|m| m.to_string()).unwrap_or_default(), share.allow_zip));
    let sending = share.request.as_ref().map(|r| r.sending.clone()).unwrap_or_default();
    let rules = share.request.clone().map(|request| view! { <RuleFields outcome request/> });
    let log_open = RwSignal::new(false);
    view! {
        <li class="rounded-xl border border-slate-200 p-4 dark:border-slate-800" data-testid="share-item">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <h2 class="font-semibold">{title}{kind}</h2>
                <StateBadge share=share.clone()/>
            </div>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400"><Facts share=share.clone()/></p>
            {(!sending.is_empty()).then(|| view! { <Sending sending cancel/> })}
            <div class="mt-3"><LinkBox url=share.url.clone()/></div>
            <div class="mt-3 flex flex-wrap gap-2">
                {active.then(|| view! {
                    <Dialog id=format!("revoke-{id}") label="Revoke" title="Revoke this link?" button_class=DANGER>
                        <p class="text-sm text-slate-700 dark:text-slate-300">{revoke_note}</p>
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <Buttons id=format!("revoke-{id}")><button type="submit" class=DANGER_SOLID>"Revoke link"</button></Buttons>
                        </ActionForm>
                    </Dialog>
                })}
            </div>
            <details class="mt-3">
                <summary class="cursor-pointer text-sm font-medium text-sky-700 dark:text-sky-400">"Edit"</summary>
                <ActionForm action=update attr:class="mt-3 space-y-3">
                    <input type="hidden" name="id" value=edit_id/>
                    <FormError outcome success="Saved."/>
                    <LinkSettings outcome expires="keep" label=share.label.clone().unwrap_or_default() downloads=download_settings/>
                    {rules}
                    <label class="block text-sm font-medium">"New password " <span class="font-normal text-slate-500 dark:text-slate-400">"(empty: keep)"</span>
                        <input name="password" type="password" autocomplete="new-password" class="field"/>
                    </label>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="remove_password" value="on" class="h-4 w-4"/>
                        "No password"
                    </label>
                    <button type="submit" class=BUTTON>"Save"</button>
                </ActionForm>
            </details>
            <details class="mt-2" on:toggle=move |_| log_open.set(true)>
                <summary class="cursor-pointer text-sm font-medium text-sky-700 dark:text-sky-400">"Access log"</summary>
                <Show when=move || log_open.get()>
                    <AccessLog id=share.id/>
                </Show>
            </details>
        </li>
    }
}

/// Visitors' uploads in progress through a file request: each holds a place and space until it
/// ends or idles out; the owner can end one at once.
#[component]
fn Sending(sending: Vec<SendingDto>, cancel: ServerAction<CancelSending>) -> impl IntoView {
    view! {
        <div class="mt-3" data-testid="sending">
            <p class="text-sm font-medium">"Uploads in progress"</p>
            <ul class="mt-1 space-y-1 text-sm text-slate-700 dark:text-slate-300">
                {sending.into_iter().map(|upload| {
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-2">
                            <span class="break-all">
                                {format!("{} · {} of {} · ends ", upload.name, human_size(upload.received), human_size(upload.length))}
                                <Time at=upload.expires_at.clone()/>" unless more arrives"
                            </span>
                            <ActionForm action=cancel>
                                <input type="hidden" name="id" value=upload.id.to_string()/>
                                <button type="submit" class="rounded-md border border-red-300 px-2 py-1 text-xs font-medium text-red-800 hover:bg-red-50 dark:border-red-900 dark:text-red-300 dark:hover:bg-red-950">"Cancel upload"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn AccessLog(id: domain::ids::ShareId) -> impl IntoView {
    let events = LocalResource::new(move || share_events(id));
    view! {
        <Suspense fallback=|| view! { <p class="text-sm">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(events) if events.is_empty() => view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"Nobody has opened it yet."</p> }.into_any(),
                    Ok(events) => view! {
                        <ul class="mt-2 space-y-1 text-sm">
                            {events.into_iter().map(|e| view! {
                                <li><Time at=e.at/>" · "{e.kind}{e.ip.map(|ip| format!(" · {ip}"))}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <p class="mt-2 text-sm text-red-700">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[cfg(feature = "hydrate")]
fn copy(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

#[cfg(not(feature = "hydrate"))]
fn copy(_: &str) {}

#[cfg(feature = "hydrate")]
fn select_all(ev: &leptos::ev::FocusEvent) {
    use wasm_bindgen::JsCast;
    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.select();
    }
}

#[cfg(not(feature = "hydrate"))]
fn select_all(_: &leptos::ev::FocusEvent) {}
