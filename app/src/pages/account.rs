//! `/account`: profile, password, signed-in devices, API tokens, deleting the account.

use domain::account::{SessionDto, TokenDto};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::account::{
    AccountPage, ChangePassword, CreateToken, DeleteAccount, RevokeSession, RevokeToken,
    SignOutEverywhere, UpdateProfile, account_overview,
};
use crate::components::form::{Card, Field, FormError, PlainForm, SECONDARY, Submit};
use crate::components::guard::signed_in;
use crate::pages::shares::PRIMARY;

/// Every form on the page; the page reloads its data after any of them completes.
#[derive(Clone, Copy)]
struct Actions {
    profile: ServerAction<UpdateProfile>,
    password: ServerAction<ChangePassword>,
    delete: ServerAction<DeleteAccount>,
    revoke_session: ServerAction<RevokeSession>,
    create_token: ServerAction<CreateToken>,
    revoke_token: ServerAction<RevokeToken>,
}

impl Actions {
    fn new() -> Self {
        Self {
            profile: ServerAction::new(),
            password: ServerAction::new(),
            delete: ServerAction::new(),
            revoke_session: ServerAction::new(),
            create_token: ServerAction::new(),
            revoke_token: ServerAction::new(),
        }
    }

    /// Changes whenever one of the forms has completed.
    fn version(self) -> usize {
        self.profile.version().get()
            + self.password.version().get()
            + self.revoke_session.version().get()
            + self.create_token.version().get()
            + self.revoke_token.version().get()
    }
}

/// The account page (signed in only).
#[component]
pub fn AccountPage() -> impl IntoView {
    let actions = Actions::new();
    let data = Resource::new_blocking(move || actions.version(), |_| account_overview());
    view! {
        <Title text="Your account"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move { signed_in(data.await, move |page| view! { <Account page actions/> }) })}
        </Transition>
    }
}

#[component]
fn Account(page: AccountPage, actions: Actions) -> impl IntoView {
    let Actions { profile, password, delete, .. } = actions;
    view! {
        <h1 class="mb-2 text-2xl font-bold">"Your account"</h1>
        <p class="mb-8 text-slate-600 dark:text-slate-400">{page.user.email.clone()}</p>
        <div class="grid gap-6">
            <Card title="Profile">
                <Avatar has_avatar=page.user.has_avatar initial=page.user.display_name.chars().next().unwrap_or('?')/>
                <ActionForm action=profile attr:class="space-y-4">
                    <FormError outcome=profile.value() success="Saved."/>
                    <Field label="Your name" name="display_name" value=page.user.display_name.clone() outcome=profile.value()/>
                    <Submit label="Save" pending=profile.pending().into()/>
                </ActionForm>
            </Card>
            <Card title="Password">
                <ActionForm action=password attr:class="space-y-4">
                    <FormError outcome=password.value() success="Password changed. Your other devices were signed out."/>
                    <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" outcome=password.value()/>
                    <Field label="New password" name="new_password" kind="password" autocomplete="new-password" outcome=password.value() hint="Changing it signs out every other device."/>
                    <TokenChoice id="password-tokens"/>
                    <Submit label="Change password" pending=password.pending().into()/>
                </ActionForm>
            </Card>
            <Sessions sessions=page.sessions actions/>
            <Tokens tokens=page.tokens new_token=page.new_token actions/>
            <Card title="Delete account">
                <ActionForm action=delete attr:class="space-y-4">
                    <p class="text-sm text-slate-600 dark:text-slate-400">"This deletes your account with all your files and folders, your sessions and your API tokens. It cannot be undone."</p>
                    <FormError outcome=delete.value()/>
                    <Field label="Your password" name="password" kind="password" autocomplete="current-password" outcome=delete.value()/>
                    <Submit label="Delete my account" pending=delete.pending().into() danger=true/>
                </ActionForm>
            </Card>
        </div>
    }
}

/// The profile picture and a plain form to replace it (a full page load, with or without
/// JavaScript); an upload error comes back as `?avatar_error=`. Hydrated, a chosen picture is
/// shown in the round frame before it is sent, cut as the server will keep it (its centre
/// square).
#[component]
fn Avatar(has_avatar: bool, initial: char) -> impl IntoView {
    let error = leptos_router::hooks::use_query_map().get_untracked().get("avatar_error");
    let chosen = RwSignal::new(None::<(String, String)>);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let current = move || {
        if let Some((url, _)) = chosen.get() {
            view! { <img src=url alt="The picture you chose" class="h-full w-full object-cover" data-testid="avatar-preview"/> }.into_any()
        } else if has_avatar {
            view! { <img src="/api/v1/me/avatar" alt="Your profile picture" class="h-full w-full object-cover"/> }.into_any()
        } else {
            view! { <span aria-hidden="true" class="flex h-full w-full items-center justify-center bg-sky-100 text-3xl font-semibold text-sky-800 dark:bg-sky-900 dark:text-sky-100">{initial.to_uppercase().to_string()}</span> }.into_any()
        }
    };
    view! {
        <div class="mb-6 flex flex-wrap items-center gap-4">
            <div class="h-20 w-20 shrink-0 overflow-hidden rounded-full ring-2 ring-slate-200 dark:ring-slate-700">{current}</div>
            <form method="post" action="/api/v1/me/avatar" enctype="multipart/form-data" class="min-w-0 space-y-2">
                <p class="text-sm font-medium">"Profile picture"</p>
                <p class="text-xs text-slate-600 dark:text-slate-400">"PNG, JPEG, GIF or WebP up to 5 MB. Its centre square is kept, 256 px, without the photo’s camera, place or time."</p>
                <div class="flex flex-wrap items-center gap-2">
                    <label class=format!("{SECONDARY} cursor-pointer focus-within:outline-2 focus-within:outline-sky-600")>
                        "Choose a picture…"
                        <input type="file" name="avatar" required accept="image/png,image/jpeg,image/gif,image/webp" class="sr-only"
                            on:change=move |ev| chosen.set(pick(&ev))/>
                    </label>
                    <button type="submit" class=PRIMARY disabled=move || hydrated.get() && chosen.with(Option::is_none)>"Save picture"</button>
                </div>
                {move || chosen.get().map(|(_, name)| view! { <p class="truncate text-xs text-slate-600 dark:text-slate-400">{format!("Chosen: {name}")}</p> })}
            </form>
            {error.map(|message| view! { <p role="alert" class="w-full text-sm text-red-700 dark:text-red-400">{message}</p> })}
        </div>
    }
}

/// The chosen picture as a local address for the preview, and its name.
fn pick(ev: &leptos::ev::Event) -> Option<(String, String)> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
        let file = input.files()?.get(0)?;
        let url = web_sys::Url::create_object_url_with_blob(&file).ok()?;
        Some((url, file.name()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        None
    }
}

/// What becomes of the API tokens when the sessions end: write tokens go by default.
#[component]
fn TokenChoice(id: &'static str) -> impl IntoView {
    view! {
        <div class="min-w-0 max-w-full">
            <label for=id class="mb-1 block text-sm font-medium">"API tokens"</label>
            <select id=id name="tokens" class="block max-w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900">
                <option value="write" selected>"Revoke write tokens (read-only ones keep working)"</option>
                <option value="all">"Revoke every token"</option>
                <option value="keep">"Keep every token"</option>
            </select>
        </div>
    }
}

#[component]
fn Sessions(sessions: Vec<SessionDto>, actions: Actions) -> impl IntoView {
    let Actions { revoke_session: revoke, .. } = actions;
    view! {
        <Card title="Signed-in devices" id="sessions">
            <FormError outcome=revoke.value()/>
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="sessions">
                {sessions.into_iter().map(|s| view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 py-3">
                        <div>
                            <p class="font-medium">{s.device.clone()} {s.current.then_some(" · this device")}</p>
                            <p class="text-sm text-slate-500 dark:text-slate-400">{format!("{} · last seen {}", s.ip, s.last_seen)}</p>
                        </div>
                        {(!s.current).then(|| view! {
                            <ActionForm action=revoke>
                                <input type="hidden" name="handle" value=s.handle.clone()/>
                                <button type="submit" class=SECONDARY>"Sign out"</button>
                            </ActionForm>
                        })}
                    </li>
                }).collect_view()}
            </ul>
            <PlainForm action=SignOutEverywhere::PATH class="mt-4 flex flex-wrap items-end gap-3">
                <TokenChoice id="everywhere-tokens"/>
                <button type="submit" class=SECONDARY>"Sign out everywhere"</button>
            </PlainForm>
        </Card>
    }
}

#[component]
fn Tokens(tokens: Vec<TokenDto>, new_token: Option<String>, actions: Actions) -> impl IntoView {
    let Actions { create_token: create, revoke_token: revoke, .. } = actions;
    view! {
        <Card title="API tokens" id="tokens">
            {new_token.map(|secret| view! {
                <div role="status" class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
                    <p class="font-medium">"Copy your new token now: it will not be shown again."</p>
                    <code data-testid="new-token" class="mt-2 block break-all font-mono">{secret}</code>
                </div>
            })}
            <ActionForm action=create attr:class="grid gap-4 sm:grid-cols-3 sm:items-end">
                <div class="sm:col-span-3"><FormError outcome=create.value()/></div>
                <Field label="Name" name="name" outcome=create.value() hint="e.g. backup script"/>
                <div class="space-y-1">
                    <label for="field-scope" class="block text-sm font-medium">"Scope"</label>
                    <select id="field-scope" name="scope" class="field">
                        <option value="read">"Read only"</option>
                        <option value="write">"Read and write"</option>
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="field-expires_days" class="block text-sm font-medium">"Expires after (days)"</label>
                    <input id="field-expires_days" name="expires_days" type="number" min="1" max="3650" placeholder="never" class="field"/>
                </div>
                <div><Submit label="Create token" pending=create.pending().into()/></div>
            </ActionForm>
            <ul class="mt-4 divide-y divide-slate-200 dark:divide-slate-800" data-testid="tokens">
                {tokens.into_iter().map(|t| view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 py-3">
                        <div>
                            <p class="font-medium">{t.name.clone()} <span class="ml-2 font-mono text-xs text-slate-500 dark:text-slate-400">{format!("{}…", t.prefix)}</span></p>
                            <p class="text-sm text-slate-500 dark:text-slate-400">
                                {format!("{} · created {} · {} · {}",
                                    if t.scope == domain::account::TokenScope::Read { "read only" } else { "read and write" },
                                    t.created,
                                    t.last_used.clone().map_or("never used".into(), |u| format!("last used {u}")),
                                    t.expires.clone().map_or("no expiry".into(), |e| format!("expires {e}")))}
                            </p>
                        </div>
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=t.id.to_string()/>
                            <button type="submit" class=SECONDARY>"Revoke"</button>
                        </ActionForm>
                    </li>
                }).collect_view()}
            </ul>
        </Card>
    }
}
