//! Browser-only upload plumbing: folder traversal for drops, XHR uploads with progress;
//! large files go through [`resumable`].

#[path = "resumable.rs"]
pub mod resumable;

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    DragEvent, File, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
    HtmlInputElement, ProgressEvent, XmlHttpRequest,
};

use super::{Destination, Item, Queue, Status};

/// Files run this many at a time; the rest wait their turn.
const PARALLEL: usize = 3;

struct Pending {
    file: File,
    to: Destination,
    dir: String,
    xhr: Option<XmlHttpRequest>,
}

thread_local! {
    static FILES: RefCell<HashMap<u32, Pending>> = RefCell::new(HashMap::new());
    static NEXT_ID: RefCell<u32> = const { RefCell::new(0) };
}

/// Files chosen with the file or folder picker.
pub fn handle_input(queue: Queue, to: Destination, ev: leptos::ev::Event) {
    let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else {
        return;
    };
    let Some(list) = input.files() else { return };
    let mut files = Vec::new();
    for i in 0..list.length() {
        if let Some(file) = list.get(i) {
            // A folder pick gives each file its path below the chosen folder.
            let path = Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|p| p.as_string())
                .unwrap_or_default();
            let dir = path.rsplit_once('/').map(|(dir, _)| dir.to_owned()).unwrap_or_default();
            files.push((file, dir));
        }
    }
    input.set_value("");
    enqueue(queue, &to, files);
}

/// Makes the whole window a drop target for files (not for text or links dragged within the
/// page): `over` is true while files are over it; a drop anywhere uploads to `to()`, and the
/// browser never opens a dropped file in place of the app.
pub fn drop_anywhere(queue: Queue, to: impl Fn() -> Destination + 'static, over: RwSignal<bool>) {
    use std::cell::Cell;
    use std::rc::Rc;
    fn carries_files(ev: &DragEvent) -> bool {
        ev.data_transfer().is_some_and(|t| t.types().includes(&"Files".into(), 0))
    }
    // dragenter/dragleave fire for every element crossed: count them to know when it left.
    let depth = Rc::new(Cell::new(0_i32));
    let entered = Rc::clone(&depth);
    let enter = window_event_listener(leptos::ev::dragenter, move |ev| {
        if carries_files(&ev) {
            entered.set(entered.get() + 1);
            over.set(true);
        }
    });
    let left = Rc::clone(&depth);
    let leave = window_event_listener(leptos::ev::dragleave, move |ev| {
        if carries_files(&ev) {
            left.set((left.get() - 1).max(0));
            if left.get() == 0 {
                over.set(false);
            }
        }
    });
    let hover = window_event_listener(leptos::ev::dragover, move |ev| {
        if carries_files(&ev) {
            ev.prevent_default(); // without it the drop would open the file
            if let Some(transfer) = ev.data_transfer() {
                transfer.set_drop_effect("copy");
            }
        }
    });
    let drop = window_event_listener(leptos::ev::drop, move |ev| {
        if carries_files(&ev) {
            ev.prevent_default();
            depth.set(0);
            over.set(false);
            handle_drop(queue, to(), ev);
        }
    });
    on_cleanup(move || {
        enter.remove();
        leave.remove();
        hover.remove();
        drop.remove();
    });
}

/// Files and folders dropped; folders are read recursively, keeping their tree.
pub fn handle_drop(queue: Queue, to: Destination, ev: DragEvent) {
    let Some(transfer) = ev.data_transfer() else { return };
    // Entries must be taken while the event is being handled; reading them can wait.
    let items = transfer.items();
    let mut entries = Vec::new();
    let mut plain = Vec::new();
    for i in 0..items.length() {
        let Some(item) = items.get(i) else { continue };
        // Folders are read through their entry; files are taken directly while we can.
        match item.webkit_get_as_entry() {
            Ok(Some(entry)) if entry.is_directory() => entries.push(entry),
            _ => {
                if let Ok(Some(file)) = item.get_as_file() {
                    plain.push((file, String::new()));
                }
            }
        }
    }
    if entries.is_empty()
        && plain.is_empty()
        && let Some(list) = transfer.files()
    {
        for i in 0..list.length() {
            plain.extend(list.get(i).map(|f| (f, String::new())));
        }
    }
    enqueue(queue, &to, plain);
    spawn_local(async move {
        let mut files = Vec::new();
        for entry in entries {
            collect(entry, &mut files).await;
        }
        enqueue(queue, &to, files);
    });
}

async fn collect(root: FileSystemEntry, out: &mut Vec<(File, String)>) {
    let mut stack = vec![root];
    while let Some(entry) = stack.pop() {
        if entry.is_directory() {
            let reader = entry.unchecked_into::<FileSystemDirectoryEntry>().create_reader();
            // readEntries returns at most ~100 entries per call: read until empty.
            loop {
                let batch = promise(|ok, err| {
                    let _ = reader.read_entries_with_callback_and_callback(ok, err);
                })
                .await;
                let Some(batch) = batch.and_then(|b| b.dyn_into::<Array>().ok()) else { break };
                if batch.length() == 0 {
                    break;
                }
                stack.extend(batch.iter().map(JsCast::unchecked_into::<FileSystemEntry>));
            }
        } else if entry.is_file() {
            let file_entry = entry.clone().unchecked_into::<FileSystemFileEntry>();
            if let Some(file) =
                promise(|ok, err| file_entry.file_with_callback_and_callback(ok, err))
                    .await
                    .and_then(|f| f.dyn_into::<File>().ok())
            {
                let path = entry.full_path();
                let dir = path.trim_start_matches('/').rsplit_once('/').map(|(d, _)| d.to_owned());
                out.push((file, dir.unwrap_or_default()));
            }
        }
    }
}

/// Awaits a callback-style browser API.
async fn promise(call: impl FnOnce(&js_sys::Function, &js_sys::Function)) -> Option<JsValue> {
    let mut call = Some(call);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await.ok()
}

fn enqueue(queue: Queue, to: &Destination, files: Vec<(File, String)>) {
    if files.is_empty() {
        return;
    }
    let mut added = Vec::new();
    for (file, dir) in files {
        let id = NEXT_ID.with(|n| {
            let mut n = n.borrow_mut();
            *n += 1;
            *n
        });
        let label = if dir.is_empty() { file.name() } else { format!("{dir}/{}", file.name()) };
        // What the request would refuse is refused here, before a byte goes.
        let status = match to.takes.refuses(&file.name(), file.size(), &file.type_()) {
            Some(why) => Status::Refused(why),
            None => Status::Queued,
        };
        added.push(Item {
            id,
            label: StoredValue::new(label),
            size: file.size(),
            loaded: RwSignal::new(0.0),
            speed: RwSignal::new(0.0),
            status: RwSignal::new(status),
            resumable: file.size() >= resumable::THRESHOLD,
        });
        let pending = Pending { file, to: to.clone(), dir, xhr: None };
        FILES.with(|f| f.borrow_mut().insert(id, pending));
    }
    queue.items.update(|items| items.extend(added));
    pump(queue);
}

/// Starts queued files while fewer than `PARALLEL` are running.
fn pump(queue: Queue) {
    let items = queue.items.get_untracked();
    let running = items
        .iter()
        .filter(|i| matches!(i.status.get_untracked(), Status::Uploading | Status::Retrying(_)))
        .count();
    let queued = items.iter().filter(|i| i.status.get_untracked() == Status::Queued);
    for item in queued.take(PARALLEL.saturating_sub(running)) {
        start(queue, *item);
    }
}

fn start(queue: Queue, item: Item) {
    let Some((file, to, dir)) = pending(item) else {
        return;
    };
    if item.resumable {
        item.status.set(Status::Uploading);
        spawn_local(resumable::run(queue, item, file, to, dir));
        return;
    }
    let Ok(xhr) = XmlHttpRequest::new() else {
        item.status.set(Status::Failed("This browser cannot upload files.".into()));
        return;
    };
    let mut url = format!("{}/files?name={}", to.base, encode(&file.name()));
    if !to.folder.is_empty() {
        url.push_str(&format!("&folder_id={}", encode(&to.folder)));
    }
    if !dir.is_empty() {
        url.push_str(&format!("&path={}", encode(&dir)));
    }
    if xhr.open("PUT", &url).is_err() {
        item.status.set(Status::Failed("Could not start the upload.".into()));
        return;
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    item.status.set(Status::Uploading);
    item.loaded.set(0.0);
    let started = js_sys::Date::now();

    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
        let elapsed = (js_sys::Date::now() - started) / 1000.0;
        item.loaded.set(ev.loaded());
        if elapsed > 0.2 {
            item.speed.set(ev.loaded() / elapsed);
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();

    let done_xhr = xhr.clone();
    let on_end = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let kind =
            Reflect::get(&ev, &"type".into()).ok().and_then(|t| t.as_string()).unwrap_or_default();
        let status = done_xhr.status().unwrap_or(0);
        let outcome = match kind.as_str() {
            "abort" => Status::Cancelled,
            "load" if status == 201 => Status::Done,
            // Too many requests, a timeout or a server fault may pass; any other refusal stays.
            "load" if matches!(status, 400..=499) && !matches!(status, 408 | 429) => {
                Status::Refused(error_message(&done_xhr))
            }
            "load" => Status::Failed(error_message(&done_xhr)),
            _ => Status::Failed("The connection was lost. Check your network and retry.".into()),
        };
        if outcome == Status::Done {
            item.loaded.set(item.size);
            FILES.with(|f| f.borrow_mut().remove(&item.id));
            queue.on_done.run(item.size);
        }
        item.status.set(outcome);
        pump(queue);
    });
    for event in ["load", "error", "abort", "timeout"] {
        let _ = xhr.add_event_listener_with_callback(event, on_end.as_ref().unchecked_ref());
    }
    on_end.forget();
    FILES.with(|f| {
        if let Some(pending) = f.borrow_mut().get_mut(&item.id) {
            pending.xhr = Some(xhr.clone());
        }
    });
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        item.status.set(Status::Failed("Could not read the file.".into()));
    }
}

/// The server's `{"error": {"message"}}`, or a generic line.
fn error_message(xhr: &XmlHttpRequest) -> String {
    xhr.response_text()
        .ok()
        .flatten()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .and_then(|json| Reflect::get(&json, &"error".into()).ok())
        .and_then(|error| Reflect::get(&error, &"message".into()).ok())
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| "The upload failed. Retry in a moment.".into())
}

pub fn cancel(_queue: Queue, item: Item) {
    if item.resumable {
        let running =
            matches!(item.status.get_untracked(), Status::Uploading | Status::Retrying(_));
        let paused = item.status.get_untracked() == Status::Paused;
        item.status.set(Status::Cancelled);
        if running {
            resumable::abort(item); // the running upload sees the cancel and drops its bytes
        } else if paused && let Some((file, to, dir)) = pending(item) {
            spawn_local(resumable::cancel_paused(file, to, dir));
        }
        return;
    }
    let xhr = FILES.with(|f| f.borrow().get(&item.id).and_then(|p| p.xhr.clone()));
    match xhr {
        Some(xhr) if item.status.get_untracked() == Status::Uploading => {
            let _ = xhr.abort();
        }
        _ => item.status.set(Status::Cancelled),
    }
}

/// Stops a resumable upload where it is; [`resume`] continues it.
pub fn pause(item: Item) {
    item.status.set(Status::Paused);
    resumable::abort(item);
}

pub fn resume(queue: Queue, item: Item) {
    item.status.set(Status::Queued);
    pump(queue);
}

fn pending(item: Item) -> Option<(File, Destination, String)> {
    FILES.with(|f| f.borrow().get(&item.id).map(|p| (p.file.clone(), p.to.clone(), p.dir.clone())))
}

pub fn retry(queue: Queue, item: Item) {
    item.status.set(Status::Queued);
    item.loaded.set(0.0);
    item.speed.set(0.0);
    pump(queue);
}

fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}
