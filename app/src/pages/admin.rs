//! `/admin`: who may sign up, invite links, and the job queue (admins only).

use domain::account::RegistrationMode;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{
    AdminPage, CreateInvite, DeleteJob, MakeMissingPreviews, RetryJob, SetRegistrationMode,
    admin_overview,
};
use crate::components::form::{Card, FormError, Submit};
use crate::components::guard::signed_in;
use crate::pages::admin_accounts::AdminTabs;

/// The admin page.
#[component]
pub fn AdminPage() -> impl IntoView {
    let mode = ServerAction::<SetRegistrationMode>::new();
    let invite = ServerAction::<CreateInvite>::new();
    let jobs = JobActions {
        retry: ServerAction::<RetryJob>::new(),
        delete: ServerAction::<DeleteJob>::new(),
        backfill: ServerAction::<MakeMissingPreviews>::new(),
    };
    // Reloads after any form completes.
    let data = Resource::new_blocking(
        move || {
            mode.version().get()
                + invite.version().get()
                + jobs.retry.version().get()
                + jobs.delete.version().get()
                + jobs.backfill.version().get()
        },
        |_| admin_overview(),
    );
    view! {
        <Title text="Admin"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                signed_in(data.await, move |page| view! { <Admin page mode invite jobs/> })
            })}
        </Transition>
    }
}

#[component]
fn Admin(
    page: AdminPage,
    mode: ServerAction<SetRegistrationMode>,
    invite: ServerAction<CreateInvite>,
    jobs: JobActions,
) -> impl IntoView {
    let (counts, dead, missing) = (page.jobs, page.dead_jobs.clone(), page.missing_tools.clone());
    let select = "field";
    let modes = [
        (RegistrationMode::Open, "Open: anyone can sign up"),
        (RegistrationMode::InviteOnly, "Invite only: sign-up needs an invite link"),
        (RegistrationMode::Closed, "Closed: admins create accounts on the command line"),
    ];
    view! {
        <AdminTabs current="settings"/>
        <h1 class="mb-8 text-2xl font-bold">"Admin"</h1>
        <div class="grid gap-6">
            <Card title="Registration">
                <ActionForm action=mode attr:class="space-y-4">
                    <FormError outcome=mode.value()/>
                    <label for="field-mode" class="block text-sm font-medium">"Who may sign up"</label>
                    <select id="field-mode" name="mode" class=select>
                        {modes.into_iter().map(|(m, label)| view! {
                            <option value=m.as_str() selected=m == page.mode>{label}</option>
                        }).collect_view()}
                    </select>
                    <Submit label="Save" pending=mode.pending().into()/>
                </ActionForm>
            </Card>
            <Card title="Invites">
                {page.new_invite_link.map(|link| view! {
                    <div role="status" class="mb-4 rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950">
                        <p class="font-medium">"Send this link to the person you invite. It works once and is not shown again."</p>
                        <code data-testid="invite-link" class="mt-2 block break-all font-mono">{link}</code>
                    </div>
                })}
                <ActionForm action=invite attr:class="flex flex-wrap items-end gap-4">
                    <FormError outcome=invite.value()/>
                    <div class="space-y-1">
                        <label for="field-days" class="block text-sm font-medium">"Valid for"</label>
                        <select id="field-days" name="days" class=select>
                            <option value="1">"1 day"</option>
                            <option value="7" selected=true>"7 days"</option>
                            <option value="30">"30 days"</option>
                        </select>
                    </div>
                    <Submit label="Create invite link" pending=invite.pending().into()/>
                </ActionForm>
                <ul class="mt-4 divide-y divide-slate-200 text-sm dark:divide-slate-800">
                    {page.invites.into_iter().map(|i| view! {
                        <li class="py-2">{if i.used { "Used".to_string() } else { format!("Not used yet · valid until {}", i.expires) }}</li>
                    }).collect_view()}
                </ul>
            </Card>
            <Jobs counts dead missing actions=jobs/>
        </div>
    }
}

/// The job queue's forms.
#[derive(Clone, Copy)]
struct JobActions {
    retry: ServerAction<RetryJob>,
    delete: ServerAction<DeleteJob>,
    backfill: ServerAction<MakeMissingPreviews>,
}

/// Jobs by state, the dead ones with their errors (retry, delete), and what previews cannot
/// be made here.
#[component]
fn Jobs(
    counts: domain::jobs::JobCounts,
    dead: Vec<domain::jobs::JobDto>,
    missing: Vec<String>,
    actions: JobActions,
) -> impl IntoView {
    let queued = actions.backfill.value();
    view! {
        <Card title="Jobs" id="jobs">
            <p class="text-sm" data-testid="job-counts">
                {format!("Queued: {} · Running: {} · Dead: {}", counts.queued, counts.running, counts.dead)}
            </p>
            {(!missing.is_empty()).then(|| view! {
                <div role="note" class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
                    <p class="font-medium">"Some previews cannot be made on this machine:"</p>
                    <ul class="mt-1 list-disc pl-5">{missing.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                    <p class="mt-1">"Install what is missing, restart, then make the missing previews below."</p>
                </div>
            })}
            <ActionForm action=actions.backfill attr:class="mt-4 flex flex-wrap items-center gap-3">
                <Submit label="Make missing previews and search text" pending=actions.backfill.pending().into()/>
                <span role="status" class="text-sm text-slate-600 dark:text-slate-300">
                    {move || match queued.get() {
                        Some(Ok(0)) => "Every file has its previews and search text.".to_owned(),
                        Some(Ok(n)) => format!("{n} files queued; previews and search text appear as the workers get to them."),
                        Some(Err(err)) => err.to_string(),
                        None => String::new(),
                    }}
                </span>
            </ActionForm>
            {(!dead.is_empty()).then(|| view! {
                <h3 class="mt-6 font-medium">"Dead jobs"</h3>
                <p class="text-sm text-slate-600 dark:text-slate-300">"These failed every attempt. Fix the cause the error names, then retry; or delete them."</p>
                <ul class="mt-2 divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="dead-jobs">
                    {dead.into_iter().map(|job| view! { <DeadJob job actions/> }).collect_view()}
                </ul>
            })}
        </Card>
    }
}

#[component]
fn DeadJob(job: domain::jobs::JobDto, actions: JobActions) -> impl IntoView {
    let (retry_id, delete_id) = (job.id.to_string(), job.id.to_string());
    view! {
        <li class="flex flex-wrap items-start justify-between gap-3 py-3" data-testid="dead-job">
            <div class="min-w-0">
                <p class="font-medium">{format!("{} · {} attempts", job.kind, job.attempts)}</p>
                <p class="break-all font-mono text-xs text-slate-600 dark:text-slate-300">{job.payload}</p>
                <p class="mt-1 break-words text-red-800 dark:text-red-300">{job.last_error.unwrap_or_default()}</p>
            </div>
            <div class="flex gap-2">
                <ActionForm action=actions.retry>
                    <input type="hidden" name="id" value=retry_id/>
                    <Submit label="Retry" pending=actions.retry.pending().into()/>
                </ActionForm>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="id" value=delete_id/>
                    <Submit label="Delete" danger=true pending=actions.delete.pending().into()/>
                </ActionForm>
            </div>
        </li>
    }
}
