//! `/admin/users`: the accounts of the instance with the storage each uses; an admin searches
//! them, gives or takes the admin role, sets a quota, turns one off or on, makes a password
//! reset link, or deletes one (after typing its email). Every form works without JavaScript.

use domain::account::Role;
use domain::admin::{AccountRow, AccountsPage};
use domain::files::human_size;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::admin::{
    AccountsPanel, CreateResetLink, DeleteAccountAsAdmin, ResetLink, SetAccountDisabled,
    SetAccountQuota, SetAccountRole, admin_accounts,
};
use crate::components::dialog::{Buttons, Dialog};
use crate::components::form::{DANGER, DANGER_SOLID, FormError, SECONDARY, successes};
use crate::components::guard::signed_in;
use crate::components::words::{Time, count};
use crate::pages::search::encode;

/// The forms of one account's row.
#[derive(Clone, Copy)]
struct Actions {
    role: ServerAction<SetAccountRole>,
    quota: ServerAction<SetAccountQuota>,
    disabled: ServerAction<SetAccountDisabled>,
    reset: ServerAction<CreateResetLink>,
    delete: ServerAction<DeleteAccountAsAdmin>,
}

impl Actions {
    /// A count that goes up each time one of the forms succeeds: the list is read again then
    /// (and not after a failure, which leaves an open dialog and its message in place).
    fn successes(self) -> RwSignal<usize> {
        successes(vec![
            self.role.value().into(),
            self.quota.value().into(),
            self.disabled.value().into(),
            self.reset.value().into(),
            self.delete.value().into(),
        ])
    }
}

/// The accounts page.
#[component]
pub fn AdminAccountsPage() -> impl IntoView {
    let query = use_query_map();
    let actions = Actions {
        role: ServerAction::new(),
        quota: ServerAction::new(),
        disabled: ServerAction::new(),
        reset: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let successes = actions.successes();
    let data = Resource::new_blocking(
        move || {
            let query = query.get();
            (query.get("q").unwrap_or_default(), query.get("after"), successes.get())
        },
        |(q, after, _)| admin_accounts(q, after),
    );
    view! {
        <Title text="Accounts · Admin"/>
        <AdminTabs current="accounts"/>
        <h1 class="mb-4 text-2xl font-bold">"Accounts"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                signed_in(data.await, move |panel| view! { <Accounts panel actions/> })
            })}
        </Transition>
    }
}

/// The links between the admin pages.
#[component]
pub fn AdminTabs(current: &'static str) -> impl IntoView {
    let tab = move |id: &'static str, href: &'static str, label: &'static str| {
        let here = id == current;
        let class = if here {
            "rounded-md bg-slate-200 px-3 py-1.5 text-sm font-medium dark:bg-slate-800"
        } else {
            "rounded-md px-3 py-1.5 text-sm font-medium text-sky-700 hover:bg-slate-100 dark:text-sky-400 dark:hover:bg-slate-800"
        };
        view! { <a href=href class=class aria-current=here.then_some("page")>{label}</a> }
    };
    view! {
        <nav aria-label="Admin" class="mb-4 flex flex-wrap gap-2">
            {tab("settings", "/admin", "Sign-up and jobs")}
            {tab("accounts", "/admin/users", "Accounts")}
            {tab("audit", "/admin/audit", "Audit log")}
            {tab("status", "/admin/status", "Status")}
        </nav>
    }
}

#[component]
fn Accounts(panel: AccountsPanel, actions: Actions) -> impl IntoView {
    let AccountsPanel { page, reset } = panel;
    let AccountsPage { rows, next, total_accounts, total_used, total_files, default_quota } = page;
    let location = use_location();
    // Where each form comes back to: this search, this page.
    let back = Signal::derive(move || {
        let search = location.search.get();
        if search.is_empty() { "/admin/users".to_owned() } else { format!("/admin/users?{search}") }
    });
    let q = use_query_map().get_untracked().get("q").unwrap_or_default();
    let searched = !q.is_empty();
    let summary = format!(
        "{} · {} in {} · quota of accounts without their own: {}",
        count(total_accounts, "account", "accounts"),
        human_size(total_used),
        count(total_files, "file", "files"),
        default_quota.map_or_else(|| "no limit".to_owned(), human_size),
    );
    let next_href = next.map(|after| {
        let mut href = format!("/admin/users?after={}", encode(&after));
        if searched {
            href.push_str(&format!("&q={}", encode(&q)));
        }
        href
    });
    let empty = rows.is_empty();
    view! {
        <p class="mb-4 text-sm text-slate-600 dark:text-slate-400" data-testid="accounts-summary">{summary}</p>
        {reset.map(|reset| view! { <ResetNotice reset/> })}
        <form method="get" action="/admin/users" role="search" aria-label="Search accounts" class="mb-4 flex gap-2">
            <label for="accounts-q" class="sr-only">"Search accounts by email or name"</label>
            <input id="accounts-q" name="q" type="search" value=q.clone() class="field min-w-0 flex-1"
                placeholder="Email or name" autocomplete="off"/>
            <button type="submit" class=SECONDARY>"Search"</button>
        </form>
        // (Without JavaScript a failed delete comes back here, its dialog closed.)
        {[actions.role.value(), actions.quota.value(), actions.disabled.value(), actions.reset.value(), actions.delete.value()]
            .into_iter()
            .map(|outcome| view! { <FormError outcome every=true/> })
            .collect_view()}
        {empty.then(|| view! {
            <p class="rounded-xl border border-dashed border-slate-300 p-6 text-center text-sm dark:border-slate-700">
                {if searched { "No account's email or name holds that. Try part of it." } else { "There are no accounts yet." }}
            </p>
        })}
        <ul class="grid gap-3" data-testid="accounts">
            {rows.into_iter().map(|account| view! { <Account account actions back/> }).collect_view()}
        </ul>
        {next_href.map(|href| view! {
            <a href=href class=format!("mt-4 inline-block {SECONDARY}")>"Next accounts"</a>
        })}
    }
}

/// A reset link made just now: shown once, to hand over.
#[component]
fn ResetNotice(reset: ResetLink) -> impl IntoView {
    view! {
        <div role="status" class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
            <p class="font-medium">{format!(
                "A password reset link for {}. Hand it to them: it works once, for a day, and is not shown again.",
                reset.email,
            )}</p>
            <code data-testid="reset-link" class="mt-2 block break-all font-mono">{reset.link}</code>
        </div>
    }
}

/// One account: who, how much it stores, and its forms.
#[component]
fn Account(account: AccountRow, actions: Actions, back: Signal<String>) -> impl IntoView {
    let id = account.id;
    let share = account.quota.map(|quota| {
        account.used.saturating_mul(100).checked_div(quota).map_or(100, |share| share.min(100))
    });
    let usage = match account.quota {
        Some(quota) => format!(
            "{} of {} ({}%) · {}",
            human_size(account.used),
            human_size(quota),
            share.unwrap_or_default(),
            count(account.files, "file", "files"),
        ),
        None => format!(
            "{} · {} · no limit",
            human_size(account.used),
            count(account.files, "file", "files")
        ),
    };
    let badge = |text: &'static str, tone: &'static str| {
        view! { <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {tone}")>{text}</span> }
    };
    let hidden = move || {
        view! {
            <input type="hidden" name="id" value=id.to_string()/>
            <input type="hidden" name="back" value=back/>
        }
    };
    let (is_admin, you, disabled) = (account.role == Role::Admin, account.you, account.disabled);
    let delete_note = format!(
        "This deletes {} and everything it owns: {} ({}), its folders and links. It cannot be undone. Type the email to confirm.",
        account.email,
        count(account.files, "file", "files"),
        human_size(account.used),
    );
    let dialog_id = format!("delete-{}", account.id);
    view! {
        <li class="min-w-0 rounded-xl border border-slate-200 p-4 dark:border-slate-800" data-testid="account">
            <div class="flex flex-wrap items-center gap-2">
                <h2 class="break-all font-semibold">{account.display_name.clone()}</h2>
                {is_admin.then(|| badge("Admin", "bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100"))}
                {disabled.then(|| badge("Turned off", "bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200"))}
                {you.then(|| badge("You", "bg-slate-200 text-slate-900 dark:bg-slate-800 dark:text-slate-100"))}
            </div>
            <p class="break-all text-sm text-slate-600 dark:text-slate-400">
                {account.email.clone()} " · joined " <Time at=account.created.clone()/>
            </p>
            <div class="mt-2">
                {share.map(|share| view! {
                    <div class="h-1.5 w-full max-w-sm rounded-full bg-slate-200 dark:bg-slate-800" aria-hidden="true">
                        <div class={if share >= 90 { "h-1.5 rounded-full bg-red-600" } else { "h-1.5 rounded-full bg-sky-600" }}
                            style=format!("width: {share}%")></div>
                    </div>
                })}
                <p class="mt-1 text-sm" data-testid="account-usage">{usage}</p>
            </div>
            <details class="mt-3">
                <summary class="cursor-pointer text-sm font-medium text-sky-700 dark:text-sky-400">"Manage"</summary>
                <div class="mt-3 grid gap-4 sm:grid-cols-2">
                    <ActionForm action=actions.quota attr:class="space-y-1">
                        {hidden()}
                        <label class="block text-sm font-medium">"Quota"
                            <input name="quota" value=account.quota_setting.clone() class="field mt-1" autocomplete="off"/>
                        </label>
                        <p class="text-xs text-slate-600 dark:text-slate-400">"A size (500MiB, 20GiB), unlimited, or default."</p>
                        <button type="submit" class=SECONDARY>"Set quota"</button>
                    </ActionForm>
                    {(!you).then(|| view! {
                        <ActionForm action=actions.role attr:class="space-y-1">
                            {hidden()}
                            <input type="hidden" name="role" value={if is_admin { "user" } else { "admin" }}/>
                            <p class="text-sm font-medium">"Role"</p>
                            <p class="text-xs text-slate-600 dark:text-slate-400">
                                {if is_admin { "An admin manages accounts, sign-up and jobs." } else { "A user has their own files and links." }}
                            </p>
                            <button type="submit" class=SECONDARY>{if is_admin { "Make a user" } else { "Make an admin" }}</button>
                        </ActionForm>
                        <ActionForm action=actions.disabled attr:class="space-y-1">
                            {hidden()}
                            <input type="hidden" name="disabled" value=(!disabled).to_string()/>
                            <p class="text-sm font-medium">"Access"</p>
                            <p class="text-xs text-slate-600 dark:text-slate-400">
                                {if disabled { "Off: no sign-in, no API token, no link of it works." } else { "Off ends its sessions; its tokens and links stop working until it is on again." }}
                            </p>
                            <button type="submit" class={if disabled { SECONDARY } else { DANGER }}>
                                {if disabled { "Turn on" } else { "Turn off" }}
                            </button>
                        </ActionForm>
                    })}
                    <ActionForm action=actions.reset attr:class="space-y-1">
                        {hidden()}
                        <p class="text-sm font-medium">"Password"</p>
                        <p class="text-xs text-slate-600 dark:text-slate-400">"A link to set a new one, for someone who forgot theirs."</p>
                        <button type="submit" class=SECONDARY>"Make a reset link"</button>
                    </ActionForm>
                    {(!you).then(|| view! {
                        <div class="space-y-1">
                            <p class="text-sm font-medium">"Delete"</p>
                            <Dialog id=dialog_id.clone() label="Delete account…" title="Delete this account?" button_class=DANGER>
                                <p class="text-sm text-slate-700 dark:text-slate-300">{delete_note}</p>
                                <ActionForm action=actions.delete attr:class="mt-4 space-y-3">
                                    <FormError outcome=actions.delete.value() every=true/>
                                    {hidden()}
                                    <label class="block text-sm font-medium">"Email"
                                        <input name="confirm" required autocomplete="off" class="field mt-1"/>
                                    </label>
                                    <Buttons id=dialog_id.clone()><button type="submit" class=DANGER_SOLID>"Delete account"</button></Buttons>
                                </ActionForm>
                            </Dialog>
                        </div>
                    })}
                </div>
            </details>
        </li>
    }
}
