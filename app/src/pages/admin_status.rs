//! `/admin/status`: this instance's version and dependencies, the job queue, who is signed in,
//! and the last hour of its requests and server errors as a small chart drawn on the server
//! (an SVG in the page: no script, no chart library).

use domain::admin::{ServiceState, StatusPanel};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::admin_status;
use crate::components::guard::signed_in;
use crate::components::words::count;
use crate::pages::admin_accounts::AdminTabs;

/// The status page.
#[component]
pub fn AdminStatusPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |()| admin_status());
    view! {
        <Title text="Status · Admin"/>
        <AdminTabs current="status"/>
        <h1 class="mb-4 text-2xl font-bold">"Status"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                signed_in(data.await, |panel| view! { <Status panel/> })
            })}
        </Transition>
    }
}

#[component]
fn Status(panel: StatusPanel) -> impl IntoView {
    let StatusPanel { version, services, workers, jobs, sessions, traffic } = panel;
    let requests: u64 = traffic.iter().map(|(requests, _)| requests).sum();
    let errors: u64 = traffic.iter().map(|(_, errors)| errors).sum();
    let card = "min-w-0 rounded-xl border border-slate-200 p-4 dark:border-slate-800";
    view! {
        <div class="grid gap-4 sm:grid-cols-2">
            <section class=card aria-labelledby="status-services">
                <h2 id="status-services" class="mb-2 font-semibold">"Services"</h2>
                <ul class="space-y-1 text-sm" data-testid="services">
                    {services.into_iter().map(|service| view! { <Service service/> }).collect_view()}
                </ul>
            </section>
            <section class=card aria-labelledby="status-instance">
                <h2 id="status-instance" class="mb-2 font-semibold">"This instance"</h2>
                <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                    <dt class="text-slate-600 dark:text-slate-400">"Version"</dt><dd>{version}</dd>
                    <dt class="text-slate-600 dark:text-slate-400">"Job workers"</dt><dd>{workers}</dd>
                    <dt class="text-slate-600 dark:text-slate-400">"Jobs"</dt>
                    <dd data-testid="status-jobs">{format!("{} queued · {} running · {} dead", jobs.queued, jobs.running, jobs.dead)}</dd>
                    <dt class="text-slate-600 dark:text-slate-400">"Signed in"</dt><dd>{count(sessions, "browser", "browsers")}</dd>
                </dl>
            </section>
            <section class=format!("{card} sm:col-span-2") aria-labelledby="status-traffic">
                <h2 id="status-traffic" class="font-semibold">"The last hour on this instance"</h2>
                <p class="mb-3 text-sm text-slate-600 dark:text-slate-400" data-testid="traffic-summary">
                    {format!("{} · {} ({})", count(requests, "request", "requests"), count(errors, "server error", "server errors"), error_rate(requests, errors))}
                </p>
                <Chart traffic/>
                <p class="mt-1 flex justify-between text-xs text-slate-600 dark:text-slate-400" aria-hidden="true">
                    <span>"60 min ago"</span><span>"now"</span>
                </p>
            </section>
        </div>
    }
}

#[component]
fn Service(service: ServiceState) -> impl IntoView {
    let (mark, tone, word) = if service.ok {
        ("●", "text-emerald-700 dark:text-emerald-400", "answers")
    } else {
        ("●", "text-red-700 dark:text-red-400", "not answering")
    };
    view! {
        <li class="break-words">
            <span class=tone aria-hidden="true">{mark}" "</span>
            <span class="font-medium">{service.name}</span>
            {format!(": {word}")}
            {service.error.map(|error| view! { <span class="block text-red-800 dark:text-red-300">{error}</span> })}
        </li>
    }
}

/// "0.4 % errors", or "no errors".
fn error_rate(requests: u64, errors: u64) -> String {
    if errors == 0 || requests == 0 {
        return "no errors".to_owned();
    }
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let rate = errors as f64 * 100.0 / requests as f64;
    format!("{rate:.1} % errors")
}

/// One bar per minute, its height the minute's requests against the busiest minute's; the
/// server errors in red at the bottom of each bar.
#[component]
fn Chart(traffic: Vec<(u64, u64)>) -> impl IntoView {
    const WIDTH: u64 = 600;
    const HEIGHT: u64 = 80;
    let busiest = traffic.iter().map(|(requests, _)| *requests).max().unwrap_or(0).max(1);
    let slot = WIDTH / traffic.len().max(1) as u64;
    let scale = |n: u64| (n * HEIGHT).div_ceil(busiest).min(HEIGHT);
    let label = format!(
        "Requests a minute over the last hour: the busiest minute had {busiest}, this minute {}.",
        traffic.last().map_or(0, |(requests, _)| *requests),
    );
    let bars = traffic
        .into_iter()
        .enumerate()
        .map(|(i, (requests, errors))| {
            let x = i as u64 * slot;
            let (all, failed) = (scale(requests), scale(errors));
            view! {
                <rect x=x y=HEIGHT - all width=slot - 1 height=all class="fill-sky-600 dark:fill-sky-500"/>
                {(failed > 0).then(|| view! {
                    <rect x=x y=HEIGHT - failed width=slot - 1 height=failed class="fill-red-600 dark:fill-red-500"/>
                })}
            }
        })
        .collect_view();
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=label
            class="h-20 w-full rounded bg-slate-100 dark:bg-slate-900" data-testid="traffic-chart">
            {bars}
        </svg>
    }
}
