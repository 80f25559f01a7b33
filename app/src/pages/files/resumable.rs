//! Resumable uploads in the browser (tus 1.0 through the app, or parts straight to S3 when the
//! server offers them): chunks of 8–32 MiB sized to the connection, pause and resume, automatic
//! retries with backoff, and continuing after a reload or a browser restart — each upload's URL
//! is kept in localStorage under the file's fingerprint until it finishes.

use std::cell::RefCell;
use std::collections::HashMap;

use domain::uploads::{DirectStep, PartDone};
use js_sys::{Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, ProgressEvent, Storage, XmlHttpRequest};

use super::super::{Destination, Item, Queue, Status};
use super::{FILES, pump};

/// Files from this size on go resumable; smaller ones in one request.
pub const THRESHOLD: f64 = 8.0 * MIB;
const MIB: f64 = 1_048_576.0;
const MIN_CHUNK: f64 = 8.0 * MIB;
const MAX_CHUNK: f64 = 32.0 * MIB;
/// Waits between attempts after a network failure, in seconds (then the last, repeated).
const BACKOFF: [u32; 6] = [1, 2, 4, 8, 15, 30];
/// Attempts in a row without progress before giving up (the person can still retry).
const MAX_ATTEMPTS: usize = 12;
const KEY_PREFIX: &str = "pannier-upload:";

thread_local! {
    /// The request each running upload is waiting on (to abort it on pause or cancel).
    static CURRENT: RefCell<HashMap<u32, XmlHttpRequest>> = RefCell::new(HashMap::new());
}

/// Why an upload stopped early.
enum Stop {
    /// Try again (network, server busy); the message is for the person if retries run out.
    Retry(String),
    /// The server refused; retrying will not help.
    Fatal(String),
    /// The person paused or cancelled.
    ByPerson,
}

/// What localStorage keeps per unfinished upload.
struct Saved {
    url: String,
    direct: bool,
}

/// Uploads `file` resumably, then updates `item` and the queue.
pub async fn run(queue: Queue, item: Item, file: File, to: Destination, dir: String) {
    let key = storage_key(&file, &to, &dir);
    let mut attempts = 0;
    let outcome = loop {
        let before = item.loaded.get_untracked();
        match send(item, &file, &to, &dir, &key).await {
            Ok(()) => break Ok(()),
            Err(Stop::Retry(message)) => {
                attempts = if item.loaded.get_untracked() > before { 1 } else { attempts + 1 };
                if attempts > MAX_ATTEMPTS {
                    break Err(message);
                }
                let wait = BACKOFF[(attempts - 1).min(BACKOFF.len() - 1)];
                item.status.set(Status::Retrying(wait));
                sleep(wait).await;
                if item.status.get_untracked() != Status::Retrying(wait) {
                    break Err(String::new()); // paused or cancelled while waiting
                }
            }
            Err(Stop::Fatal(message)) => {
                item.status.set(Status::Refused(message));
                break Err(String::new());
            }
            Err(Stop::ByPerson) => break Err(String::new()),
        }
    };
    match outcome {
        Ok(()) => {
            forget(&key);
            item.loaded.set(item.size);
            item.status.set(Status::Done);
            FILES.with(|f| f.borrow_mut().remove(&item.id));
            queue.on_done.run(item.size);
        }
        Err(_) if item.status.get_untracked() == Status::Paused => {}
        Err(_) if item.status.get_untracked() == Status::Cancelled => discard(&key).await,
        Err(_) if matches!(item.status.get_untracked(), Status::Refused(_)) => {} // kept: the same file chosen again continues
        Err(message) => item.status.set(Status::Failed(message)),
    }
    pump(queue);
}

/// Stops the request under way for `item` (pause or cancel).
pub fn abort(item: Item) {
    if let Some(xhr) = CURRENT.with(|c| c.borrow_mut().remove(&item.id)) {
        let _ = xhr.abort();
    }
}

/// Cancels a paused upload of `file`: the server drops its bytes.
pub async fn cancel_paused(file: File, to: Destination, dir: String) {
    discard(&storage_key(&file, &to, &dir)).await;
}

async fn send(item: Item, file: &File, to: &Destination, dir: &str, key: &str) -> Result<(), Stop> {
    item.status.set(Status::Uploading);
    let saved = match load(key) {
        Some(saved) => match offset(item, &saved.url).await? {
            Some(offset) => Some((saved, offset)),
            None => {
                forget(key); // expired or finished: start over
                None
            }
        },
        None => None,
    };
    let (saved, offset) = match saved {
        Some(found) => found,
        None => (create(item, file, to, dir, key).await?, 0.0),
    };
    item.loaded.set(offset);
    if saved.direct {
        send_parts(item, file, &saved.url).await
    } else {
        send_chunks(item, file, &saved.url, offset).await
    }
}

/// `HEAD`: where the upload stands; `None` when the server no longer has it.
async fn offset(item: Item, url: &str) -> Result<Option<f64>, Stop> {
    let reply = request(item, "HEAD", url, &tus_headers(), Body::None, None).await?;
    match reply.status {
        200 => Ok(reply.header("Upload-Offset").and_then(|o| o.parse().ok())),
        404 | 410 => Ok(None),
        _ => Err(reply.stop()),
    }
}

async fn create(
    item: Item,
    file: &File,
    to: &Destination,
    dir: &str,
    key: &str,
) -> Result<Saved, Stop> {
    let mut metadata = vec![format!("filename {}", base64(&file.name()))];
    if !to.folder.is_empty() {
        metadata.push(format!("folder_id {}", base64(&to.folder)));
    }
    if !dir.is_empty() {
        metadata.push(format!("path {}", base64(dir)));
    }
    let mut headers = tus_headers();
    headers.push(("Upload-Length", format!("{}", file.size())));
    headers.push(("Upload-Metadata", metadata.join(",")));
    headers.push(("Pannier-Direct-Upload", "s3".into()));
    let uploads = format!("{}/uploads", to.base);
    let reply = request(item, "POST", &uploads, &headers, Body::None, None).await?;
    if reply.status != 201 {
        return Err(reply.stop());
    }
    let url = reply.header("Location").ok_or_else(|| Stop::Retry("No upload address".into()))?;
    let saved = Saved { url, direct: reply.header("Pannier-Direct-Part-Size").is_some() };
    save(key, &saved, file);
    Ok(saved)
}

/// tus `PATCH`es, each chunk sized so it takes a few seconds on this connection.
async fn send_chunks(item: Item, file: &File, url: &str, mut offset: f64) -> Result<(), Stop> {
    let mut chunk = MIN_CHUNK;
    loop {
        let end = (offset + chunk).min(file.size());
        let blob = file.slice_with_f64_and_f64(offset, end).map_err(|_| unreadable())?;
        let mut headers = tus_headers();
        headers.push(("Upload-Offset", format!("{offset}")));
        headers.push(("Content-Type", "application/offset+octet-stream".into()));
        let started = js_sys::Date::now();
        let reply = request(item, "PATCH", url, &headers, Body::Blob(blob), Some(offset)).await?;
        if reply.status != 204 {
            return Err(reply.stop());
        }
        if reply.header("Pannier-File-Id").is_some() {
            return Ok(());
        }
        offset = reply.header("Upload-Offset").and_then(|o| o.parse().ok()).unwrap_or(end);
        item.loaded.set(offset);
        let seconds = (js_sys::Date::now() - started) / 1000.0;
        chunk = if seconds < 4.0 {
            chunk * 2.0
        } else if seconds > 20.0 {
            chunk / 2.0
        } else {
            chunk
        };
        chunk = chunk.clamp(MIN_CHUNK, MAX_CHUNK);
    }
}

/// Direct-to-S3: each part to its presigned URL, reported back with its ETag.
async fn send_parts(item: Item, file: &File, url: &str) -> Result<(), Stop> {
    let parts_url = format!("{url}/parts");
    let mut report = String::new();
    loop {
        let reply =
            request(item, "POST", &parts_url, &json_headers(), Body::Text(report), None).await?;
        if reply.status != 200 {
            return Err(reply.stop());
        }
        let text = reply.xhr.response_text().ok().flatten().unwrap_or_default();
        let step: DirectStep =
            serde_json::from_str(&text).map_err(|_| Stop::Retry("Unexpected answer".into()))?;
        item.loaded.set(step.offset as f64);
        let Some(next) = step.next else { return Ok(()) };
        let (start, end) = (next.start as f64, next.end as f64);
        let blob = file.slice_with_f64_and_f64(start, end).map_err(|_| unreadable())?;
        let sent = request(item, "PUT", &next.url, &[], Body::Blob(blob), Some(start)).await?;
        if sent.status != 200 {
            return Err(Stop::Retry("The storage did not take a part.".into()));
        }
        let etag = sent.header("ETag").ok_or_else(|| {
            Stop::Fatal("The storage hides the ETag header: its CORS rule must expose it.".into())
        })?;
        let done = PartDone { number: next.number, etag };
        report = serde_json::to_string(&done).unwrap_or_default();
    }
}

enum Body {
    None,
    Blob(Blob),
    Text(String),
}

/// A finished request.
struct Reply {
    status: u16,
    xhr: XmlHttpRequest,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.xhr.get_response_header(name).ok().flatten()
    }

    /// What to do after an unexpected status: retry when it may pass, stop otherwise.
    fn stop(&self) -> Stop {
        let message = super::error_message(&self.xhr);
        match self.status {
            0 | 409 | 423 | 429 | 460 | 500.. => Stop::Retry(message),
            _ => Stop::Fatal(message),
        }
    }
}

/// Sends one request for `item`, reporting upload progress from `progress_base` on; a
/// network failure or an abort is `Err` (abort by the person: `Stop::ByPerson`).
async fn request(
    item: Item,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Body,
    progress_base: Option<f64>,
) -> Result<Reply, Stop> {
    let broken = || Stop::Retry("The connection was lost.".into());
    let xhr =
        XmlHttpRequest::new().map_err(|_| Stop::Fatal("This browser cannot upload.".into()))?;
    xhr.open(method, url).map_err(|_| broken())?;
    for (name, value) in headers {
        let _ = xhr.set_request_header(name, value);
    }
    let started = js_sys::Date::now();
    let on_progress = progress_base.map(|base| {
        Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            item.loaded.set(base + ev.loaded());
            let seconds = (js_sys::Date::now() - started) / 1000.0;
            if seconds > 0.5 {
                item.speed.set(ev.loaded() / seconds);
            }
        })
    });
    if let (Some(callback), Ok(upload)) = (&on_progress, xhr.upload()) {
        upload.set_onprogress(Some(callback.as_ref().unchecked_ref()));
    }
    let finished = Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
    CURRENT.with(|c| c.borrow_mut().insert(item.id, xhr.clone()));
    let sent = match &body {
        Body::None => xhr.send(),
        Body::Blob(blob) => xhr.send_with_opt_blob(Some(blob)),
        Body::Text(text) if text.is_empty() => xhr.send(),
        Body::Text(text) => xhr.send_with_opt_str(Some(text)),
    };
    if sent.is_err() {
        return Err(unreadable());
    }
    let _ = JsFuture::from(finished).await;
    drop(on_progress);
    let aborted = CURRENT.with(|c| c.borrow_mut().remove(&item.id)).is_none();
    if aborted || !item.status.get_untracked().is_active() {
        return Err(Stop::ByPerson);
    }
    let status = xhr.status().unwrap_or(0);
    if status == 0 {
        return Err(broken());
    }
    Ok(Reply { status, xhr })
}

fn tus_headers() -> Vec<(&'static str, String)> {
    vec![("Tus-Resumable", "1.0.0".into()), ("Accept", "application/json".into())]
}

fn json_headers() -> Vec<(&'static str, String)> {
    vec![("Content-Type", "application/json".into()), ("Accept", "application/json".into())]
}

fn unreadable() -> Stop {
    Stop::Fatal("The file could not be read. Choose it again.".into())
}

async fn sleep(seconds: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                i32::try_from(seconds * 1000).unwrap_or(i32::MAX),
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn base64(text: &str) -> String {
    // btoa takes Latin-1: encode UTF-8 bytes one per character first.
    let latin1: String = text.bytes().map(char::from).collect();
    web_sys::window().and_then(|w| w.btoa(&latin1).ok()).unwrap_or_default()
}

/// The same file to the same place: name, size, last change, route, folder and sub-folder.
fn storage_key(file: &File, to: &Destination, dir: &str) -> String {
    let modified = Reflect::get(file, &"lastModified".into()).ok().and_then(|m| m.as_f64());
    format!(
        "{KEY_PREFIX}{}|{}|{dir}|{}|{}|{}",
        to.base,
        to.folder,
        file.name(),
        file.size(),
        modified.unwrap_or(0.0)
    )
}

fn local_storage() -> Option<Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn load(key: &str) -> Option<Saved> {
    let value = local_storage()?.get_item(key).ok().flatten()?;
    let json = js_sys::JSON::parse(&value).ok()?;
    let url = Reflect::get(&json, &"url".into()).ok()?.as_string()?;
    let direct = Reflect::get(&json, &"direct".into()).ok().and_then(|d| d.as_bool());
    Some(Saved { url, direct: direct.unwrap_or(false) })
}

fn save(key: &str, saved: &Saved, file: &File) {
    let record = js_sys::Object::new();
    let _ = Reflect::set(&record, &"url".into(), &saved.url.as_str().into());
    let _ = Reflect::set(&record, &"direct".into(), &saved.direct.into());
    let _ = Reflect::set(&record, &"name".into(), &file.name().into());
    let _ = Reflect::set(&record, &"size".into(), &file.size().into());
    if let (Some(storage), Ok(json)) = (local_storage(), js_sys::JSON::stringify(&record)) {
        let _ = storage.set_item(key, &String::from(json));
    }
}

fn forget(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Cancels an upload on the server and forgets it here.
async fn discard(key: &str) {
    if let Some(saved) = load(key) {
        let xhr = XmlHttpRequest::new().ok();
        if let Some(xhr) = xhr
            && xhr.open("DELETE", &saved.url).is_ok()
        {
            let _ = xhr.set_request_header("Tus-Resumable", "1.0.0");
            let finished = Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
            if xhr.send().is_ok() {
                let _ = JsFuture::from(finished).await;
            }
        }
    }
    forget(key);
}

/// Unfinished uploads under route `base` remembered here: `(name, size)`.
pub fn unfinished_uploads(base: &str) -> Vec<(String, f64)> {
    stored_keys(base)
        .into_iter()
        .filter_map(|key| {
            let value = local_storage()?.get_item(&key).ok().flatten()?;
            let json = js_sys::JSON::parse(&value).ok()?;
            let name = Reflect::get(&json, &"name".into()).ok()?.as_string()?;
            let size = Reflect::get(&json, &"size".into()).ok()?.as_f64()?;
            Some((name, size))
        })
        .collect()
}

/// Cancels every remembered unfinished upload under route `base`.
pub fn forget_unfinished(base: &str) {
    for key in stored_keys(base) {
        wasm_bindgen_futures::spawn_local(async move { discard(&key).await });
    }
}

fn stored_keys(base: &str) -> Vec<String> {
    let Some(storage) = local_storage() else { return Vec::new() };
    let prefix = format!("{KEY_PREFIX}{base}|");
    let count = storage.length().unwrap_or(0);
    (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(&prefix))
        .collect()
}
