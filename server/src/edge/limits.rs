//! Request-level rules: load shedding (a fixed number of requests in flight, the rest refused
//! at once), a deadline for requests that do not stream a file, and the rate-limit budgets of
//! `domain::limits` taken per account (signed in or by token) or per client address. Each is a
//! middleware that `startup` scopes to the routers it applies to.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use domain::AppError;
use domain::auth::{ClientInfo, Identity};
use domain::breaker::Breaker;
use domain::limits::{Budget, Decision, Limits, address_key};
use tokio::sync::Semaphore;

use super::in_flight::{InFlight, Slot};
use crate::errors::error_response;

/// How long a refused client is asked to wait when the server is overloaded.
const OVERLOADED_RETRY_SECS: u64 = 2;

/// Requests handled at once; past it → 503 with `Retry-After` at once (no queue to grow).
pub async fn shed(State(slots): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    let Ok(_slot) = slots.try_acquire() else {
        tracing::warn!("overloaded: a request was shed");
        metrics::counter!("pannier_requests_shed_total", "reason" => "overloaded").increment(1);
        return refusal(navigating(request.headers()), &overloaded());
    };
    next.run(request).await
}

/// While the database's breaker is open (`domain::breaker`: it is pinged every second),
/// requests are answered 503 at once instead of each waiting for a connection.
pub async fn database_up(
    State(breaker): State<Arc<Breaker>>,
    request: Request,
    next: Next,
) -> Response {
    if breaker.is_open() {
        metrics::counter!("pannier_requests_shed_total", "reason" => "database_down").increment(1);
        return refusal(navigating(request.headers()), &breaker.refusal());
    }
    next.run(request).await
}

/// The 503 of an overloaded server.
fn overloaded() -> AppError {
    AppError::Overloaded {
        message: "The server is busy. Try again in a moment.".into(),
        retry_after_secs: OVERLOADED_RETRY_SECS,
    }
}

/// The deadline of requests that do not stream a file (`request_timeout_secs`), put into
/// every request's extensions by `startup::router` for [`deadline`] to read.
#[derive(Debug, Clone, Copy)]
pub struct RequestDeadline(pub Duration);

/// Answers 503 when the route has not answered within the [`RequestDeadline`].
pub async fn deadline(request: Request, next: Next) -> Response {
    let Some(RequestDeadline(limit)) = request.extensions().get::<RequestDeadline>().copied()
    else {
        return next.run(request).await;
    };
    let navigating = navigating(request.headers());
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "a request passed its deadline");
            refusal(navigating, &too_slow())
        }
    }
}

/// The 503 of a request that passed its deadline (counted).
pub fn too_slow() -> AppError {
    metrics::counter!("pannier_requests_shed_total", "reason" => "deadline").increment(1);
    AppError::Overloaded {
        message: "The server took too long to answer. Try again in a moment.".into(),
        retry_after_secs: OVERLOADED_RETRY_SECS,
    }
}

/// The pace an upload's body must keep (`upload_idle_timeout_secs`, `min_transfer_rate`), put
/// into every request's extensions by `startup::router` for [`cut_stalled_uploads`].
#[derive(Debug, Clone, Copy)]
pub struct UploadPace {
    /// A body that sends nothing this long is cut; also the window of the minimum rate.
    pub idle: Duration,
    /// Bytes a second a body must average over each window.
    pub min_rate: u64,
}

/// Upload routes: a body that sends nothing for the [`UploadPace`]'s `idle` time, or less than
/// its `min_rate` over such a window (a trickle), ends with an error, so the upload fails (a
/// tus upload keeps what arrived) and frees its place instead of holding a connection, a
/// request slot and a reservation for as long as the client likes.
pub async fn cut_stalled_uploads(request: Request, next: Next) -> Response {
    let Some(pace) = request.extensions().get::<UploadPace>().copied() else {
        return next.run(request).await;
    };
    let request = request.map(|body| Body::from_stream(paced(body, pace)));
    next.run(request).await
}

/// `body`'s chunks, ending with an error when the next one takes longer than `pace.idle` or a
/// window of that length brought fewer than `pace.min_rate` bytes a second.
fn paced(
    body: Body,
    pace: UploadPace,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    use futures_util::StreamExt;
    let least = pace.min_rate.saturating_mul(pace.idle.as_secs().max(1));
    let start = (body.into_data_stream(), tokio::time::Instant::now(), 0u64);
    futures_util::stream::unfold(Some(start), move |state| async move {
        let (mut stream, mut window, mut received) = state?;
        let cut = |why: String| {
            tracing::info!(%why, "an upload was cut");
            Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, why)), None))
        };
        match tokio::time::timeout(pace.idle, stream.next()).await {
            Ok(Some(chunk)) => {
                if let Ok(bytes) = &chunk {
                    metrics::counter!("pannier_bytes_uploaded_total").increment(bytes.len() as u64);
                    received += bytes.len() as u64;
                }
                if window.elapsed() >= pace.idle {
                    if received < least {
                        return cut(format!(
                            "the upload sent {received} bytes in {} s, less than {} bytes a second",
                            pace.idle.as_secs(),
                            pace.min_rate
                        ));
                    }
                    (window, received) = (tokio::time::Instant::now(), 0);
                }
                Some((chunk.map_err(std::io::Error::other), Some((stream, window, received))))
            }
            Ok(None) => None,
            Err(_) => cut(format!("the upload sent nothing for {} s", pace.idle.as_secs())),
        }
    })
}

/// Every request: the general budget.
pub async fn requests(request: Request, next: Next) -> Response {
    take(Budget::Requests, request, next).await
}

/// Starting an upload (a simple upload, a tus creation); counted by outcome.
pub async fn uploads(request: Request, next: Next) -> Response {
    let response = take(Budget::Uploads, request, next).await;
    let outcome = if response.status().is_success() { "accepted" } else { "refused" };
    metrics::counter!("pannier_uploads_total", "outcome" => outcome).increment(1);
    response
}

/// Downloading a file or a zip; the bytes sent are counted as they go, zips apart.
pub async fn downloads(request: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let response = take(Budget::Downloads, request, next).await;
    let zip = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t == "application/zip");
    if zip && response.status().is_success() {
        metrics::counter!("pannier_zips_total").increment(1);
    }
    let sent = metrics::counter!("pannier_bytes_downloaded_total");
    response.map(|body| {
        Body::new(body.map_frame(move |frame| {
            if let Some(data) = frame.data_ref() {
                sent.increment(data.len() as u64);
            }
            frame
        }))
    })
}

/// Who the caller is for the limits: the account when known, else the address.
fn client_key(request: &Request) -> String {
    match request.extensions().get::<Identity>() {
        Some(identity) => format!("user:{}", identity.user.id),
        None => {
            let ip = request.extensions().get::<ClientInfo>().and_then(|c| c.ip.clone());
            address_key(ip.as_deref())
        }
    }
}

/// Takes one unit of `budget` for the caller ([`client_key`]). The answer carries
/// `RateLimit-Policy` and `RateLimit`; a refusal is a 429 with `Retry-After` (JSON, or a short
/// page for a browser).
async fn take(budget: Budget, request: Request, next: Next) -> Response {
    let Some(limits) = request.extensions().get::<Limits>().cloned() else {
        return next.run(request).await;
    };
    let key = client_key(&request);
    match limits.take(budget, &key).await {
        Ok(None) => next.run(request).await,
        Ok(Some(decision)) => {
            let mut response = next.run(request).await;
            describe(&mut response, &decision);
            response
        }
        Err(err) => {
            let mut response = refusal(navigating(request.headers()), &err);
            if let (Some(policy), AppError::TooManyRequests { retry_after_secs, .. }) =
                (limits.policy(budget), &err)
            {
                let reset = Duration::from_secs(*retry_after_secs);
                describe(&mut response, &Decision { budget, policy, remaining: 0, reset });
            }
            response
        }
    }
}

/// Adds the budget's `RateLimit-Policy` and `RateLimit` (several budgets: several values).
fn describe(response: &mut Response, decision: &Decision) {
    let headers = response.headers_mut();
    for (name, value) in
        [("ratelimit-policy", decision.policy_header()), ("ratelimit", decision.limit_header())]
    {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
}

/// Whether the request is a browser navigating to a page (not a script fetching JSON).
fn navigating(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.contains("text/html")
        && headers.get("sec-fetch-mode").is_none_or(|mode| mode == "navigate")
}

/// A refusal in the caller's language: a short page for a browser `navigating`, else the JSON
/// error (with `Retry-After` either way).
fn refusal(navigating: bool, err: &AppError) -> Response {
    let json = error_response(err);
    if !navigating {
        return json;
    }
    let status = json.status();
    let (title, what) = match err {
        AppError::TooManyRequests { .. } => {
            ("Slow down", "You have sent a lot of requests in a short time.")
        }
        AppError::Unavailable(_) => ("Temporarily unavailable", "Part of Pannier is down."),
        _ => ("Busy", "Pannier is handling a lot of requests right now."),
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>{title} · Pannier</title>\
         <main style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem\">\
         <h1>{title}</h1><p>{what} {}</p><p><a href=\"\">Try again</a> \
         · <a href=\"/\">Home</a></p></main></html>",
        crate::html::escape(&err.to_string()),
    );
    let mut response = (status, Html(page)).into_response();
    if let Some(retry) = json.headers().get(header::RETRY_AFTER) {
        response.headers_mut().insert(header::RETRY_AFTER, retry.clone());
    }
    response
}

/// Expensive requests one client may have going at once: uploads (their bytes arriving) and
/// zips (their bytes leaving). Put into every request's extensions by `startup::router`.
#[derive(Debug, Clone)]
pub struct AtOnce {
    uploads: InFlight<String>,
    zips: InFlight<String>,
}

impl AtOnce {
    /// `uploads` and `zips` at most per client (0: no cap).
    pub fn new(uploads: usize, zips: usize) -> Self {
        Self { uploads: InFlight::new(uploads), zips: InFlight::new(zips) }
    }
}

/// The caller's place among `what` in progress (`pick` of [`AtOnce`]), or the 429 refusing it.
fn enter(
    request: &Request,
    what: &str,
    pick: fn(&AtOnce) -> &InFlight<String>,
) -> Result<Option<Slot<String>>, AppError> {
    let Some(at_once) = request.extensions().get::<AtOnce>() else { return Ok(None) };
    let counts = pick(at_once);
    counts.enter(client_key(request)).map_err(|_| {
        metrics::counter!("pannier_requests_shed_total", "reason" => format!("{what}_at_once"))
            .increment(1);
        AppError::TooManyRequests {
            message: format!(
                "You have {} {what} going already. Wait for one to finish, then try again.",
                counts.max()
            ),
            retry_after_secs: 1,
        }
    })
}

/// Upload routes: at most `max_uploads_at_once` requests sending bytes per client; the next is
/// a 429 at once (its bytes are not read).
pub async fn uploads_at_once(request: Request, next: Next) -> Response {
    match enter(&request, "uploads", |at_once| &at_once.uploads) {
        Ok(_slot) => next.run(request).await,
        Err(err) => refusal(navigating(request.headers()), &err),
    }
}

/// The zip route: at most `max_zips_at_once` zips streaming per client, held until the last
/// byte is sent (or the client goes).
pub async fn zips_at_once(request: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    let slot = match enter(&request, "zips", |at_once| &at_once.zips) {
        Ok(slot) => slot,
        Err(err) => return refusal(navigating(request.headers()), &err),
    };
    let response = next.run(request).await;
    response.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = &slot;
            frame
        }))
    })
}
