//! The upload area: a plain multipart form (works without JavaScript) that, once hydrated,
//! becomes a drop zone for files and whole folders with a queue: progress per file and overall,
//! speed, time left, cancel and retry. Small files go in one request to the streaming upload
//! route; large ones are resumable (tus, in chunks): pause, resume, automatic retries, and
//! continuing after a reload when the same file is chosen again. The WASM code never holds a
//! whole file.

use domain::files::human_size;
use leptos::prelude::*;

use crate::components::dropdown::Dropdown;

/// Where one queued file stands.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), expect(dead_code, reason = "set by the browser half only"))]
pub enum Status {
    /// Waiting for a free slot.
    Queued,
    /// Bytes are on their way.
    Uploading,
    /// The connection failed; trying again after this many seconds.
    Retrying(u32),
    /// Stopped by the person; resumable from where it stopped.
    Paused,
    /// Stored.
    Done,
    /// The network or the server failed; retrying may work. The message says why.
    Failed(String),
    /// The server refused the file (too large, a type not taken, no room left); retrying the
    /// same file will not help, so there is no Retry. The message says why.
    Refused(String),
    /// Stopped by the person.
    Cancelled,
}

/// One file in the queue (display state only; the `File` itself stays in the browser).
#[derive(Debug, Clone, Copy)]
pub struct Item {
    id: u32,
    label: StoredValue<String>,
    size: f64,
    loaded: RwSignal<f64>,
    speed: RwSignal<f64>,
    status: RwSignal<Status>,
    /// Sent in resumable chunks (can pause).
    resumable: bool,
}

/// The upload queue. It lives above the listing (which reloads as files arrive), so it
/// survives those reloads and navigation between folders.
#[derive(Clone, Copy)]
pub struct Queue {
    items: RwSignal<Vec<Item>>,
    #[cfg_attr(not(feature = "hydrate"), expect(dead_code, reason = "run by the browser half"))]
    on_done: Callback<f64>,
}

impl Queue {
    /// An empty queue; `on_done` runs after each stored file, with its size in bytes.
    pub fn new(on_done: Callback<f64>) -> Self {
        Self { items: RwSignal::new(Vec::new()), on_done }
    }
}

/// Where uploads go: under `base` (`/api/v1` for the signed-in person's files, `/s/{slug}`
/// for a file request) into folder `folder` (empty: the root; a file request has its own).
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// Route prefix of the `files` (simple) and `uploads` (tus) routes.
    pub base: String,
    /// Folder id.
    pub folder: String,
    /// What a file request takes, checked before sending.
    pub takes: Takes,
}

/// What a file request takes, checked in the browser before a byte is sent: a file it would
/// refuse is shown refused at once instead of after its upload. The server checks again
/// (types by the bytes); this only spares a visitor a doomed upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Takes {
    /// Largest file, in bytes.
    pub max_file_size: Option<u64>,
    /// `.pdf` (by name), `image/png` or `image/*` (by type); empty: any.
    pub types: Vec<String>,
}

impl Takes {
    /// Why a file named `name` of `size` bytes, of the type the browser guessed (`mime`, often
    /// empty), would be refused — `None` when it may go. A type rule is judged only when the
    /// browser knows the type; otherwise the server decides from the bytes.
    #[cfg_attr(
        not(any(feature = "hydrate", test)),
        expect(dead_code, reason = "run by the browser half")
    )]
    pub fn refuses(&self, name: &str, size: f64, mime: &str) -> Option<String> {
        #[expect(clippy::cast_precision_loss, reason = "comparing sizes")]
        if let Some(max) = self.max_file_size.filter(|max| size > *max as f64) {
            return Some(format!("This request takes files up to {}.", human_size(max)));
        }
        if self.types.is_empty() {
            return None;
        }
        let (name, mime) = (name.to_lowercase(), mime.to_lowercase());
        let matches = |rule: &String| match rule.strip_suffix("/*") {
            _ if rule.starts_with('.') => name.ends_with(rule.as_str()),
            Some(family) => mime.split('/').next() == Some(family),
            None => mime == *rule,
        };
        let by_type_unknown = mime.is_empty() && self.types.iter().any(|r| !r.starts_with('.'));
        (!self.types.iter().any(matches) && !by_type_unknown).then(|| {
            format!("This request takes only these file types: {}.", self.types.join(", "))
        })
    }
}

/// The upload form for `folder_id` (empty: the root) under `base`; the whole window takes
/// dropped files. On the file browser (`toolbar`) it is an "Upload" menu in the toolbar and
/// the queue shows in [`UploadTray`]; on a request page it is a drop zone with the queue
/// under it. `takes` narrows the file picker and refuses before sending what a file request
/// would refuse.
#[component]
pub fn Uploader(
    #[prop(into)] folder_id: Signal<String>,
    queue: Queue,
    #[prop(into, default = "/api/v1".into())] base: String,
    #[prop(optional)] takes: Takes,
    #[prop(optional)] toolbar: bool,
) -> impl IntoView {
    let accept = (!takes.types.is_empty()).then(|| takes.types.join(","));
    let takes = StoredValue::new(takes);
    let dragging = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    let folder_input = NodeRef::<leptos::html::Input>::new();
    let menu = NodeRef::<leptos::html::Details>::new();
    let action = format!("{base}/files");
    let base = StoredValue::new(base);
    let to = move || Destination {
        base: base.get_value(),
        folder: folder_id.get_untracked(),
        takes: takes.get_value(),
    };
    drop_anywhere(queue, to, dragging);
    Effect::new(move |_| {
        hydrated.set(true);
        // The folder picker (a non-standard attribute every current browser supports).
        if let Some(input) = folder_input.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    let chosen = move |ev| {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
        handle_input(queue, to(), ev);
    };
    let overlay = move || {
        dragging.get().then(|| view! {
        // The whole window takes the drop; this says so while files are over it.
        <div class="pointer-events-none fixed inset-0 z-50 flex items-center justify-center bg-sky-500/15 p-6" data-testid="drop-overlay">
            <p class="rounded-2xl border-4 border-dashed border-sky-500 bg-white px-8 py-6 text-lg font-semibold text-sky-800 shadow-xl dark:bg-slate-900 dark:text-sky-200">
                "Drop to upload here"
            </p>
        </div>
    })
    };
    let files = move |class: &'static str| {
        view! {
            <input type="file" name="files" multiple class=class data-testid="file-input" accept=accept.clone() on:change=chosen/>
        }
    };
    let folder = move |class: &'static str| {
        view! {
            <input type="file" name="files" multiple node_ref=folder_input class=class data-testid="folder-input" on:change=chosen/>
        }
    };
    // Without JavaScript the choice is sent with this button; with it, uploads start at once.
    let send = move || {
        view! {
            <button type="submit" class="rounded-md bg-sky-700 px-3 py-2 text-sm font-medium text-white hover:bg-sky-800"
                class:hidden=move || hydrated.get()>"Upload"</button>
        }
    };
    let hidden_folder = move || {
        view! {
            <input type="hidden" name="folder_id" prop:value=move || folder_id.get() value=folder_id.get_untracked()/>
        }
    };
    if toolbar {
        let item = "flex cursor-pointer items-center rounded-md px-3 py-2 text-sm hover:bg-slate-100 focus-within:bg-slate-100 dark:hover:bg-slate-800 dark:focus-within:bg-slate-800";
        return view! {
            <form method="post" action=action enctype="multipart/form-data" class="flex items-center gap-2" data-testid="upload-form">
                {overlay}
                {hidden_folder()}
                // Choosing a file closes it (`chosen`); a click on an entry must not, or the
                // picker would open under a closed menu.
                <Dropdown label="Upload files or a folder" node_ref=menu keep_open=true
                    summary_class="gap-1 rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600".to_owned()
                    panel_class="left-0 mt-1 w-48 rounded-lg border border-slate-200 bg-white p-1 shadow-xl dark:border-slate-700 dark:bg-slate-900"
                    button=ViewFn::from(|| view! { "Upload"<span aria-hidden="true">" ▾"</span> })>
                    <label class=item>"Files…"{files("sr-only")}</label>
                    <label class=item>"A folder…"{folder("sr-only")}</label>
                </Dropdown>
                {send()}
            </form>
        }
        .into_any();
    }
    let unfinished = RwSignal::new(Vec::<(String, f64)>::new());
    Effect::new(move |_| unfinished.set(unfinished_uploads(&base.get_value())));
    let button = "inline-flex cursor-pointer items-center gap-2 rounded-md border border-slate-300 px-3 py-2 text-sm font-medium hover:bg-slate-100 focus-within:outline-2 focus-within:outline-sky-600 dark:border-slate-700 dark:hover:bg-slate-800";
    view! {
        <form
            method="post"
            action=action
            enctype="multipart/form-data"
            data-testid="drop-zone"
            class="rounded-xl border-2 border-dashed border-slate-300 p-4 transition-colors dark:border-slate-700"
            class:border-sky-500=move || dragging.get()
        >
            {overlay}
            {hidden_folder()}
            <div class="flex flex-wrap items-center gap-3">
                <p class="text-sm text-slate-600 dark:text-slate-400">"Drop files or folders here, or"</p>
                <label class=button><span>"Choose files"</span>{files("sr-only")}</label>
                <label class=button><span>"Choose a folder"</span>{folder("sr-only")}</label>
                {send()}
            </div>
            <Unfinished unfinished queue base=base.get_value()/>
            <QueueView queue/>
        </form>
    }
    .into_any()
}

/// The file browser's uploads, in a corner of the window: per file progress and state, the
/// unfinished ones a reload interrupted; it folds to one line.
#[component]
pub fn UploadTray(queue: Queue, #[prop(into)] base: String) -> impl IntoView {
    let unfinished = RwSignal::new(Vec::<(String, f64)>::new());
    let base = StoredValue::new(base);
    Effect::new(move |_| unfinished.set(unfinished_uploads(&base.get_value())));
    let folded = RwSignal::new(false);
    let shown = move || !queue.items.with(Vec::is_empty) || !unfinished.with(Vec::is_empty);
    let summary = move || {
        queue.items.with(|items| {
            let done = items.iter().filter(|i| i.status.get() == Status::Done).count();
            let running = items.iter().filter(|i| i.status.get().is_active()).count();
            match running {
                0 => format!("{done} of {} uploaded", items.len()),
                n => format!("Uploading {n} · {done} of {} done", items.len()),
            }
        })
    };
    view! {
        <Show when=shown>
            <section class="pointer-events-auto w-full overflow-hidden rounded-xl border border-slate-200 bg-white shadow-2xl sm:w-96 dark:border-slate-700 dark:bg-slate-900"
                aria-label="Uploads" data-testid="upload-tray">
                <div class="flex items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-700">
                    <h2 class="text-sm font-semibold">{summary}</h2>
                    <button type="button" class="rounded-md px-2 py-1 text-sm font-medium text-sky-700 hover:bg-slate-100 dark:text-sky-400 dark:hover:bg-slate-800"
                        aria-expanded=move || (!folded.get()).to_string() on:click=move |_| folded.update(|f| *f = !*f)>
                        {move || if folded.get() { "Show" } else { "Hide" }}
                    </button>
                </div>
                <div class="max-h-[50vh] overflow-auto px-3 pb-3" class:hidden=move || folded.get()>
                    <Unfinished unfinished queue base=base.get_value()/>
                    <QueueView queue/>
                </div>
            </section>
        </Show>
    }
}

/// Large uploads a reload or a closed browser interrupted: choosing the same file again
/// continues each where it stopped.
#[component]
fn Unfinished(
    unfinished: RwSignal<Vec<(String, f64)>>,
    queue: Queue,
    base: String,
) -> impl IntoView {
    let base = StoredValue::new(base);
    let waiting = move || {
        let queued =
            queue.items.with(|items| items.iter().map(|i| i.label.get_value()).collect::<Vec<_>>());
        unfinished
            .get()
            .into_iter()
            .filter(|(name, _)| !queued.iter().any(|q| q.ends_with(name.as_str())))
            .collect::<Vec<_>>()
    };
    view! {
        <Show when=move || !waiting().is_empty()>
            <div class="mt-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100" data-testid="unfinished-uploads">
                <p class="font-medium">"Unfinished uploads — choose or drop the same file again to continue where it stopped:"</p>
                <ul class="mt-1 list-inside list-disc">
                    {move || waiting().into_iter().map(|(name, size)| view! { <li>{name}" ("{human(size)}")"</li> }).collect_view()}
                </ul>
                <button type="button" class="mt-2 rounded-md px-2 py-1 font-medium text-amber-900 underline hover:bg-amber-100 dark:text-amber-100 dark:hover:bg-amber-900"
                    on:click=move |_| { forget_unfinished(&base.get_value()); unfinished.set(Vec::new()); }>
                    "Discard them"
                </button>
            </div>
        </Show>
    }
}

#[component]
fn QueueView(queue: Queue) -> impl IntoView {
    let totals = move || {
        queue.items.with(|items| {
            let active = items.iter().filter(|i| !matches!(i.status.get(), Status::Cancelled));
            active.fold((0.0, 0.0), |(loaded, size), i| (loaded + i.loaded.get(), size + i.size))
        })
    };
    let finished = move || {
        queue.items.with(|items| {
            items.iter().all(|i| !i.status.get().is_active() && i.status.get() != Status::Paused)
        })
    };
    view! {
        <Show when=move || !queue.items.with(Vec::is_empty)>
            <div class="mt-4 space-y-3" aria-live="polite">
                <div class="flex items-center justify-between gap-2 text-sm">
                    <span class="font-medium" data-testid="upload-overall">
                        {move || { let (loaded, size) = totals(); format!("{} of {} uploaded", human(loaded), human(size)) }}
                    </span>
                    <Show when=finished>
                        <button type="button" class="rounded-md px-2 py-1 text-sm text-sky-700 hover:underline dark:text-sky-400"
                            on:click=move |_| queue.items.update(|items| items.retain(|i| !matches!(i.status.get_untracked(), Status::Done | Status::Cancelled)))>
                            "Clear finished"
                        </button>
                    </Show>
                </div>
                <Bar fraction=Signal::derive(move || { let (loaded, size) = totals(); if size > 0.0 { loaded / size } else { 1.0 } })/>
                <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="upload-queue">
                    <For each=move || queue.items.get() key=|item| item.id let:item>
                        <QueueRow item queue/>
                    </For>
                </ul>
            </div>
        </Show>
    }
}

#[component]
fn QueueRow(item: Item, queue: Queue) -> impl IntoView {
    let detail = move || match item.status.get() {
        Status::Queued => "Waiting…".to_owned(),
        Status::Uploading => {
            let (loaded, speed) = (item.loaded.get(), item.speed.get());
            let left = if speed > 0.0 {
                format!(" · {} left", duration((item.size - loaded) / speed))
            } else {
                String::new()
            };
            format!("{} of {} · {}/s{left}", human(loaded), human(item.size), human(speed))
        }
        Status::Retrying(seconds) => {
            format!(
                "Connection lost at {} of {} · retrying in {seconds} s",
                human(item.loaded.get()),
                human(item.size)
            )
        }
        Status::Paused => format!("Paused at {} of {}", human(item.loaded.get()), human(item.size)),
        Status::Done => format!("Done · {}", human(item.size)),
        Status::Failed(message) => message,
        Status::Refused(message) => format!("Not uploaded: {message}"),
        Status::Cancelled => {
            format!("Cancelled at {} of {}", human(item.loaded.get()), human(item.size))
        }
    };
    let retryable = move || matches!(item.status.get(), Status::Failed(_) | Status::Cancelled);
    let failed = move || matches!(item.status.get(), Status::Failed(_) | Status::Refused(_));
    let cancelled = move || item.status.get() == Status::Cancelled;
    let active = move || item.status.get().is_active() || item.status.get() == Status::Paused;
    let can_pause = move || {
        item.resumable && matches!(item.status.get(), Status::Uploading | Status::Retrying(_))
    };
    let small = "rounded-md px-2 py-1 text-sm font-medium text-sky-700 hover:bg-slate-100 dark:text-sky-400 dark:hover:bg-slate-800";
    view! {
        <li class="py-2" data-testid="upload-item" data-status=move || status_name(&item.status.get())>
            <div class="flex items-center justify-between gap-2">
                <span class="min-w-0 truncate text-sm font-medium">{item.label.get_value()}</span>
                <span class="flex shrink-0 gap-1">
                    <Show when=can_pause>
                        <button type="button" class=small on:click=move |_| pause(item)>"Pause"</button>
                    </Show>
                    <Show when=move || item.status.get() == Status::Paused>
                        <button type="button" class=small on:click=move |_| resume(queue, item)>"Resume"</button>
                    </Show>
                    <Show when=active>
                        <button type="button" class=small on:click=move |_| cancel(queue, item)>"Cancel"</button>
                    </Show>
                    <Show when=retryable>
                        <button type="button" class=small on:click=move |_| retry(queue, item)>"Retry"</button>
                    </Show>
                </span>
            </div>
            <Bar fraction=Signal::derive(move || if item.size > 0.0 { item.loaded.get() / item.size } else { 1.0 })
                tone=Signal::derive(move || Tone::of(&item.status.get()))/>
            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400" class:text-red-700=failed class:dark:text-red-400=failed
                class:line-through=cancelled>{detail}</p>
        </li>
    }
}

/// A progress bar's colour: what its upload came to, told apart at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// Under way or waiting.
    #[default]
    Running,
    /// Stored.
    Done,
    /// Paused by the person.
    Paused,
    /// Failed or refused.
    Failed,
    /// Cancelled by the person.
    Cancelled,
}

impl Tone {
    fn of(status: &Status) -> Self {
        match status {
            Status::Queued | Status::Uploading | Status::Retrying(_) => Self::Running,
            Status::Done => Self::Done,
            Status::Paused => Self::Paused,
            Status::Failed(_) | Status::Refused(_) => Self::Failed,
            Status::Cancelled => Self::Cancelled,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Running => "h-full rounded-full bg-sky-600 transition-[width]",
            Self::Done => "h-full rounded-full bg-emerald-600",
            Self::Paused => "h-full rounded-full bg-amber-500",
            Self::Failed => "h-full rounded-full bg-red-600",
            Self::Cancelled => "h-full rounded-full bg-slate-400 dark:bg-slate-600",
        }
    }
}

/// A progress bar (also exposed to assistive technology), coloured by `tone`.
#[component]
pub fn Bar(
    #[prop(into)] fraction: Signal<f64>,
    #[prop(into, optional)] tone: Signal<Tone>,
) -> impl IntoView {
    let percent = move || (fraction.get().clamp(0.0, 1.0) * 100.0).round();
    view! {
        <div class="mt-1 h-2 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800" role="progressbar"
            aria-valuemin="0" aria-valuemax="100" aria-valuenow=move || percent().to_string()>
            <div class=move || tone.get().class() style:width=move || format!("{}%", percent())></div>
        </div>
    }
}

impl Status {
    /// Queued or under way (takes a slot, can be cancelled).
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Queued | Self::Uploading | Self::Retrying(_))
    }
}

fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Queued => "queued",
        Status::Uploading => "uploading",
        Status::Retrying(_) => "retrying",
        Status::Paused => "paused",
        Status::Done => "done",
        Status::Failed(_) => "failed",
        Status::Refused(_) => "refused",
        Status::Cancelled => "cancelled",
    }
}

#[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "display only")]
fn human(bytes: f64) -> String {
    human_size(bytes.max(0.0) as u64)
}

#[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "display only")]
fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).ceil() as u64;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

#[cfg(feature = "hydrate")]
use browser::resumable::{forget_unfinished, unfinished_uploads};
#[cfg(feature = "hydrate")]
use browser::{cancel, drop_anywhere, handle_input, pause, resume, retry};

#[cfg(not(feature = "hydrate"))]
fn unfinished_uploads(_: &str) -> Vec<(String, f64)> {
    Vec::new()
}
#[cfg(not(feature = "hydrate"))]
fn forget_unfinished(_: &str) {}
#[cfg(not(feature = "hydrate"))]
fn pause(_: Item) {}
#[cfg(not(feature = "hydrate"))]
fn resume(_: Queue, _: Item) {}
#[cfg(not(feature = "hydrate"))]
fn drop_anywhere(_: Queue, _: impl Fn() -> Destination, _: RwSignal<bool>) {}
#[cfg(not(feature = "hydrate"))]
fn handle_input(_: Queue, _: Destination, _: leptos::ev::Event) {}
#[cfg(not(feature = "hydrate"))]
fn cancel(_: Queue, _: Item) {}
#[cfg(not(feature = "hydrate"))]
fn retry(_: Queue, _: Item) {}

/// The browser half: reading dropped folders, sending files with progress events.
#[cfg(feature = "hydrate")]
#[path = "upload_browser.rs"]
mod browser;

#[cfg(test)]
mod tests {
    use super::Takes;

    #[test]
    fn a_request_refuses_before_sending_only_what_its_server_would() {
        let any = Takes::default();
        assert_eq!(any.refuses("a.exe", 1e12, ""), None);
        let takes = Takes {
            max_file_size: Some(1000),
            types: vec![".pdf".into(), "image/*".into(), "text/csv".into()],
        };
        let big = takes.refuses("big.pdf", 1001.0, "application/pdf");
        assert_eq!(big.as_deref(), Some("This request takes files up to 1000 B."));
        for (name, mime) in [
            ("Scan.PDF", ""),
            ("photo.jpg", "image/jpeg"),
            ("data.csv", "text/csv"),
            // The browser does not know the type: the server reads the bytes.
            ("picture", ""),
        ] {
            assert_eq!(takes.refuses(name, 10.0, mime), None, "{name}");
        }
        let refused = takes.refuses("notes.txt", 10.0, "text/plain").unwrap();
        assert_eq!(refused, "This request takes only these file types: .pdf, image/*, text/csv.");
        let by_name = Takes { max_file_size: None, types: vec![".pdf".into()] };
        assert!(by_name.refuses("notes.txt", 10.0, "").is_some(), "names are always known");
    }
}
