//! `/admin/audit`: the audit log, newest first — who did what, from where, when — narrowed by
//! action, by part of an email and to failures. A plain GET form: it works without JavaScript.

use domain::admin::{AUDIT_ACTIONS, AuditPage, AuditRow, audit_words};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin::admin_audit;
use crate::components::error::ErrorNotice;
use crate::components::form::SECONDARY;
use crate::components::guard::signed_in;
use crate::components::words::Time;
use crate::pages::admin_accounts::AdminTabs;
use crate::pages::search::encode;

/// The audit page.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let query = query.get();
        let get = |key: &str| query.get(key).unwrap_or_default();
        (get("action"), get("who"), get("failed") == "on", query.get("before"))
    };
    let data = Resource::new_blocking(filter, |(action, who, failed, before)| {
        admin_audit(action, who, failed, before)
    });
    view! {
        <Title text="Audit log · Admin"/>
        <AdminTabs current="audit"/>
        <h1 class="mb-4 text-2xl font-bold">"Audit log"</h1>
        <Filters/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error @ domain::AppError::Invalid { .. }) => view! { <ErrorNotice error/> }.into_any(),
                    other => signed_in(other, |page| view! { <Events page/> }),
                }
            })}
        </Transition>
    }
}

/// The filters, as they are in the address.
#[component]
fn Filters() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let chosen = query.get("action").unwrap_or_default();
    let who = query.get("who").unwrap_or_default();
    let failed = query.get("failed").as_deref() == Some("on");
    view! {
        <form method="get" action="/admin/audit" role="search" aria-label="Filter the audit log"
            class="mb-6 flex flex-wrap items-end gap-3">
            <label class="block min-w-0 text-sm font-medium">"What"
                <select name="action" class="field mt-1 max-w-full">
                    <option value="">"Everything"</option>
                    {AUDIT_ACTIONS.iter().map(|(code, words)| view! {
                        <option value=*code selected=*code == chosen>{*words}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="block min-w-0 text-sm font-medium">"Who"
                <input name="who" type="search" value=who placeholder="Part of an email" class="field mt-1" autocomplete="off"/>
            </label>
            <label class="flex items-center gap-2 pb-2 text-sm">
                <input type="checkbox" name="failed" checked=failed class="h-4 w-4"/>
                "Only failures"
            </label>
            <button type="submit" class=SECONDARY>"Show"</button>
        </form>
    }
}

#[component]
fn Events(page: AuditPage) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let older = page.next.map(|cursor| {
        let keep = ["action", "who", "failed"]
            .into_iter()
            .filter_map(|key| query.get(key).map(|value| format!("{key}={}&", encode(&value))))
            .collect::<String>();
        format!("/admin/audit?{keep}before={}", encode(&cursor))
    });
    let empty = page.rows.is_empty();
    view! {
        {empty.then(|| view! {
            <p class="rounded-xl border border-dashed border-slate-300 p-6 text-center text-sm dark:border-slate-700">
                "Nothing in the log matches. Choose “Everything”, clear “Who” or “Only failures”."
            </p>
        })}
        <ol class="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="audit-events">
            {page.rows.into_iter().map(|row| view! { <Event row/> }).collect_view()}
        </ol>
        {older.map(|href| view! { <a href=href class=format!("mt-4 inline-block {SECONDARY}")>"Older events"</a> })}
    }
}

#[component]
fn Event(row: AuditRow) -> impl IntoView {
    let (tone, outcome) = if row.success {
        ("bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200", "Done")
    } else {
        ("bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200", "Failed")
    };
    let by = row.actor.unwrap_or_else(|| "Someone not signed in (or a deleted account)".to_owned());
    let place = [row.ip, row.user_agent].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    view! {
        <li class="min-w-0 p-3 text-sm" data-testid="audit-event">
            <div class="flex flex-wrap items-center gap-2">
                <span class="font-medium">{audit_words(&row.action).to_owned()}</span>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {tone}")>{outcome}</span>
                <Time at=row.at class="text-slate-600 dark:text-slate-400"/>
            </div>
            <p class="break-all">
                <span class="text-slate-600 dark:text-slate-400">"By "</span>{by}
                {row.target.map(|target| view! { <span class="text-slate-600 dark:text-slate-400">" · on "</span>{target} })}
            </p>
            {(!place.is_empty()).then(|| view! { <p class="break-all text-xs text-slate-600 dark:text-slate-400">{place}</p> })}
        </li>
    }
}
