//! Request bodies a route answered without reading — a 401 before an upload, a tus `PATCH`
//! at the wrong offset (409), a quota refusal (413) — are read to their end before the
//! answer goes (within [`MOST_BYTES`] and [`MOST_TIME`]), as nginx does for its own early
//! answers. Left unread, hyper closes the connection under a client still sending: its writes
//! fail (broken pipe) and it never sees the answer. Behind nginx that is worse than a lost
//! answer: nginx answers 502 and counts the instance as failed, and takes it out of rotation;
//! one such request per instance (a retried tus chunk, or anyone's unauthenticated `PUT`)
//! left no instance to send anything to ("no live upstreams").
//!
//! Only a client sending briskly is waited for — a proxy, or anyone on a good line: a body
//! past the limits, one that pauses for [`IDLE`] or arrives slower than [`LEAST_RATE`] (an
//! upload cut for stalling or trickling), or one the client only sends after `100 Continue`
//! (which an unread body never asks for), is not read on: the answer says `Connection: close`.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;

/// The most bytes of a body left unread that are read before answering (a tus chunk).
const MOST_BYTES: u64 = 64 << 20;
/// The longest that reading them may take.
const MOST_TIME: Duration = Duration::from_secs(10);
/// The longest pause between two pieces of the body.
const IDLE: Duration = Duration::from_secs(1);
/// Bytes a second the body must arrive at (after its first second).
const LEAST_RATE: u64 = 1 << 20;

/// Answers once the request body is read to its end, when the route left some of it.
pub async fn read_to_end(request: Request, next: Next) -> Response {
    // No body, or all of it is known to be there (hyper knows from its framing).
    if request.body().is_end_stream() || expects_continue(request.headers()) {
        return next.run(request).await;
    }
    let left = Arc::new(Mutex::new(None));
    let request = request.map(|body| Body::new(Returning { body: Some(body), left: left.clone() }));
    let mut response = next.run(request).await;
    let unread = left.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(body) = unread {
        // Shed (503): reading its body is the work it was refused to spare.
        let read = response.status() != StatusCode::SERVICE_UNAVAILABLE && read_out(body).await;
        if !read {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .is_some_and(|expect| expect.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Reads `body` to its end within the limits; whether it ended.
async fn read_out(mut body: Body) -> bool {
    if body.size_hint().lower() > MOST_BYTES {
        return false;
    }
    let started = tokio::time::Instant::now();
    let mut read: u64 = 0;
    loop {
        match tokio::time::timeout(IDLE, body.frame()).await {
            Ok(None) => return true,
            Ok(Some(Ok(frame))) => {
                read += frame.data_ref().map_or(0, |data| data.len() as u64);
                let took = started.elapsed();
                let slow = took > Duration::from_secs(1)
                    && (read as f64) < LEAST_RATE as f64 * took.as_secs_f64();
                if read > MOST_BYTES || took > MOST_TIME || slow {
                    return false;
                }
            }
            Ok(Some(Err(_))) | Err(_) => return false,
        }
    }
}

/// A request body that, dropped before its end, puts the rest back in `left`.
struct Returning {
    body: Option<Body>,
    left: Arc<Mutex<Option<Body>>>,
}

impl http_body::Body for Returning {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.body.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body.as_ref().map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if let Some(body) = self.body.take().filter(|body| !body.is_end_stream()) {
            *self.left.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
        }
    }
}
