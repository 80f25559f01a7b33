//! Snapshots of rendered pages: the signed-in `/files` pages and links' public pages `/s/{slug}`
//! are kept as HTML after their first rendering and served again while nothing they show
//! changed — a hundred rows are rendered once per change, not once per request.
//!
//! A snapshot is kept under the page's address, its viewer (the signed-in account, if any) and
//! the theme cookie, and it is served only while the counters the domain reports for the page
//! ([`PageVersion`]: accounts and settings, the viewer's or the link owner's tree, the links)
//! are the ones it was rendered under. Only what the domain allows is kept: a link with a
//! password, a download limit or a file request is rendered every time. A link's page served
//! from a snapshot still counts and logs the visit, and a link that expired or was revoked is
//! no longer asked for its version, so it is rendered (and says so).
//!
//! Each response gets a new CSP nonce: the kept HTML is split where the old nonce stood.
//! Snapshots expire with the domain's caches ([`domain::cache::TTL`]): the bound on what a
//! change on another instance can leave here.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use futures_util::FutureExt;
use tokio::sync::Notify;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::auth::{ClientInfo, Identity};
use domain::cache::PageVersion;
use domain::state::AppState;
use uuid::Uuid;

/// The HTML snapshots may hold, in bytes.
const CAPACITY: u64 = 64 * 1024 * 1024;
/// A page larger than this is not kept (nor read whole: such a page is passed on as it came).
const LARGEST: usize = 4 * 1024 * 1024;

/// Address (path and query), viewer, theme.
type Key = (String, Option<Uuid>, Option<&'static str>);

/// A rendered page: its HTML and CSP header cut where the nonce stood.
struct Snapshot {
    version: PageVersion,
    content_type: HeaderValue,
    policy: Vec<String>,
    html: Vec<Bytes>,
}

static SNAPSHOTS: LazyLock<moka::sync::Cache<Key, Arc<Snapshot>>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .weigher(|_, snapshot: &Arc<Snapshot>| {
            let bytes: usize = snapshot.html.iter().map(Bytes::len).sum();
            u32::try_from(bytes).unwrap_or(u32::MAX)
        })
        .max_capacity(CAPACITY)
        .time_to_live(domain::cache::TTL)
        .build()
});

/// The middleware around the page routes.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let viewer = request.extensions().get::<Identity>().map(|identity| identity.user.id);
    let Some(version) = version(&state, request.uri().path(), viewer).await else {
        return next.run(request).await;
    };
    let theme = app::theme_of(request.headers()).map(app::components::theme::Theme::class);
    let key = (request.uri().to_string(), viewer, theme);
    let client = request.extensions().get::<ClientInfo>().cloned().unwrap_or_default();
    let kept = || SNAPSHOTS.get(&key).filter(|snapshot| snapshot.version == version);
    let served = |snapshot: Arc<Snapshot>| {
        domain::shares::page_served(&state, &version, &client);
        snapshot.response()
    };
    if let Some(snapshot) = kept() {
        return served(snapshot);
    }
    // One rendering per page at a time: the others asking meanwhile wait for its snapshot.
    match Rendering::start(&key, kept) {
        Start::Kept(snapshot) => served(snapshot),
        Start::Wait(waiting) => {
            let _ = tokio::time::timeout(WAIT_FOR_RENDERING, waiting).await;
            match kept() {
                Some(snapshot) => served(snapshot),
                None => next.run(request).await, // not kept after all (or too slow): render it
            }
        }
        Start::Render(rendering) => {
            let response = keep(key.clone(), version, next.run(request).await).await;
            drop(rendering);
            response
        }
    }
}

/// How long a request waits for another's rendering of the same page before rendering its own.
const WAIT_FOR_RENDERING: std::time::Duration = std::time::Duration::from_secs(2);

/// Pages being rendered, each with what its waiters are woken by.
static RENDERINGS: LazyLock<Mutex<HashMap<Key, Arc<Notify>>>> = LazyLock::new(Mutex::default);

/// A page this request renders; when it is dropped (kept, failed or the client gone), the
/// requests waiting for it look again.
struct Rendering {
    key: Key,
    done: Arc<Notify>,
}

/// What a request for a page does.
enum Start {
    /// Serves the page kept.
    Kept(Arc<Snapshot>),
    /// Waits for another request's rendering of it.
    Wait(Pin<Box<dyn Future<Output = ()> + Send>>),
    /// Renders it.
    Render(Rendering),
}

impl Rendering {
    /// Serve `key`'s snapshot (`kept`), wait for another request rendering it, or render it.
    ///
    /// Decided under the lock a rendering ends under, after keeping its snapshot: a request
    /// that missed the snapshot just before the rendering ended finds it here, instead of
    /// rendering the page a second time.
    fn start(key: &Key, kept: impl FnOnce() -> Option<Arc<Snapshot>>) -> Start {
        let mut renderings = RENDERINGS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(done) = renderings.get(key) {
            // Registered before the lock is let go, so the wake-up cannot be missed.
            let done = Arc::clone(done);
            let mut waiting: Pin<Box<dyn Future<Output = ()> + Send>> =
                Box::pin(async move { done.notified().await });
            let _ = (&mut waiting).now_or_never();
            return Start::Wait(waiting);
        }
        if let Some(snapshot) = kept() {
            return Start::Kept(snapshot);
        }
        let done = Arc::new(Notify::new());
        renderings.insert(key.clone(), Arc::clone(&done));
        Start::Render(Self { key: key.clone(), done })
    }
}

impl Drop for Rendering {
    fn drop(&mut self) {
        RENDERINGS.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
        self.done.notify_waiters();
    }
}

/// What the page at `path` is rendered under, if it may be kept.
async fn version(state: &AppState, path: &str, viewer: Option<Uuid>) -> Option<PageVersion> {
    if let Some(slug) = path.strip_prefix("/s/").filter(|slug| !slug.contains('/')) {
        return domain::shares::page_version(state, slug).await;
    }
    let files =
        path == "/files" || path.strip_prefix("/files/").is_some_and(|id| !id.contains('/'));
    match viewer {
        Some(viewer) if files => domain::cache::files_page_version(&state.db, viewer).await,
        _ => None,
    }
}

/// Keeps a fresh page (a 200 without cookies, with a nonce in its policy) and passes it on.
async fn keep(key: Key, version: PageVersion, response: Response) -> Response {
    let nonce = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|policy| policy.to_str().ok())
        .and_then(nonce_of)
        .map(str::to_owned);
    let keepable = response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE)
        && !response.headers().contains_key(header::CONTENT_ENCODING);
    let (Some(nonce), true) = (nonce, keepable) else { return response };
    let (parts, body) = response.into_parts();
    let html = match axum::body::to_bytes(body, LARGEST).await {
        Ok(html) => html,
        Err(err) => {
            tracing::warn!(error = %err, "a page was too large or failed while kept");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let policy = parts.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|p| p.to_str().ok());
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    if let (Some(policy), Some(content_type)) = (policy, content_type) {
        let snapshot = Snapshot {
            version,
            content_type,
            policy: policy.split(nonce.as_str()).map(str::to_owned).collect(),
            html: split(&html, nonce.as_bytes()),
        };
        SNAPSHOTS.insert(key, Arc::new(snapshot));
    }
    Response::from_parts(parts, Body::from(html))
}

impl Snapshot {
    /// The kept page with a new nonce.
    fn response(&self) -> Response {
        let nonce = leptos::nonce::Nonce::new();
        let mut response = Body::from(self.html.join(nonce.as_bytes())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        if let Ok(policy) = HeaderValue::from_str(&self.policy.join(&*nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

/// The nonce a Content-Security-Policy allows scripts by.
fn nonce_of(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let length = policy[start..].find('\'')?;
    Some(&policy[start..start + length]).filter(|nonce| !nonce.is_empty())
}

/// `html` cut at every occurrence of `nonce` (which is then left out).
fn split(html: &Bytes, nonce: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + nonce.len() <= html.len() {
        if &html[at..at + nonce.len()] == nonce {
            pieces.push(html.slice(start..at));
            at += nonce.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(html.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_where_its_nonce_stood_and_joined_with_another() {
        let html = Bytes::from_static(b"<script nonce=\"abc\">x</script><p>abc</p>");
        let pieces = split(&html, b"abc");
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.join(&b"xyz"[..]), b"<script nonce=\"xyz\">x</script><p>xyz</p>");
        assert_eq!(nonce_of("script-src 'self' 'nonce-Q1w2' 'wasm-unsafe-eval'"), Some("Q1w2"));
        assert_eq!(nonce_of("script-src 'self'"), None);
    }
}
