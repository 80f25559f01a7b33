//! The connection layer (what axum's `serve` leaves out): hyper with a timer, so a client that
//! does not send a whole request head within `header_timeout_secs` is cut — a slowloris
//! trickle, and a keep-alive connection left idle alike; caps on open connections, in all and
//! per client address (trusted proxies exempt), so one client cannot take every slot — past
//! either a new connection is closed at once, before any byte is read; and a bounded request
//! head: at most `max_headers` fields, and a read buffer of [`READ_BUFFER`] that no head can
//! outgrow (431; [`bounded_head`] holds heads to `max_header_bytes`); and a minimum send
//! rate: in each `send_timeout_secs` window in which the client held an answer up (a write
//! could not go out), at least `min_transfer_rate` bytes a second must have left — a stalled
//! download, a reader that stopped or trickles, loses the connection. Shutdown stops
//! accepting, then lets every connection finish its request.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::client::TrustedProxies;
use super::in_flight::InFlight;

/// A connection's read buffer: bodies are read through it (a small one would cut uploads into
/// small chunks), and a request head must fit in it.
const READ_BUFFER: usize = 256 * 1024;

/// The connection rules, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionRules {
    /// A whole request head must arrive within this (also between requests on one connection).
    pub header_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections at most from one address (not a trusted proxy).
    pub max_connections_per_address: usize,
    /// Most header fields.
    pub max_headers: usize,
    /// The window of the minimum send rate.
    pub send_timeout: Duration,
    /// Bytes a second that must leave in a window in which the client held an answer up.
    pub min_rate: u64,
}

impl ConnectionRules {
    /// The rules the configuration sets.
    pub fn from_config(config: &domain::config::Config) -> Self {
        Self {
            header_timeout: Duration::from_secs(config.header_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
            max_connections_per_address: config.max_connections_per_address.max(1),
            max_headers: config.max_headers.max(1),
            send_timeout: Duration::from_secs(config.send_timeout_secs.max(1)),
            min_rate: config.min_transfer_rate.max(1),
        }
    }
}

/// Serves `router` on `listener` until `signal`, then waits for open connections to finish
/// their requests (the caller bounds how long).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    rules: ConnectionRules,
    proxies: TrustedProxies,
    signal: impl Future<Output = ()> + Send,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(rules.header_timeout)
        .max_buf_size(READ_BUFFER)
        .max_headers(rules.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(READ_BUFFER).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(rules.header_timeout))
        .keep_alive_timeout(rules.header_timeout);
    let builder = Arc::new(builder);
    let open = Arc::new(Semaphore::new(rules.max_connections));
    let per_address = InFlight::new(rules.max_connections_per_address);
    let graceful = GracefulShutdown::new();
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            tracing::warn!(max = rules.max_connections, "connection limit reached; closing one");
            drop(stream);
            continue;
        };
        let address = peer.ip();
        // Trusted proxies carry many clients: exempt.
        let slot = if proxies.trusts(address) { Ok(None) } else { per_address.enter(address) };
        let Ok(slot) = slot else {
            tracing::warn!(%address, "connection limit per address reached; closing one");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let builder = Arc::clone(&builder);
        let progress = Arc::new(Progress::default());
        let stream = Watched { inner: stream, progress: Arc::clone(&progress) };
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            tokio::select! {
                result = connection => if let Err(err) = result {
                    tracing::debug!(error = %err, %peer, "connection ended with an error");
                },
                () = too_slow(&progress, rules.send_timeout, rules.min_rate) => {
                    tracing::info!(%peer, "a client held an answer up below the minimum rate; closed");
                    metrics::counter!("pannier_connections_cut_total", "reason" => "send_timeout")
                        .increment(1);
                }
            }
            drop((slot, permit));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A connection's stream, counting what its writes send and noting when one had to wait for
/// the client.
struct Watched {
    inner: TcpStream,
    progress: Arc<Progress>,
}

/// What [`too_slow`] reads of a connection's writes.
#[derive(Debug, Default)]
struct Progress {
    /// Bytes written in all.
    written: AtomicU64,
    /// Whether a write waited for the client since the last look.
    held_up: AtomicBool,
}

impl Watched {
    fn note(&self, poll: &Poll<std::io::Result<usize>>) {
        match poll {
            Poll::Pending => self.progress.held_up.store(true, Ordering::Relaxed),
            Poll::Ready(Ok(sent)) => {
                self.progress.written.fetch_add(*sent as u64, Ordering::Relaxed);
            }
            Poll::Ready(Err(_)) => {}
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(&poll);
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves at the end of a `window` in which the client held an answer up and fewer than
/// `min_rate` bytes a second left.
async fn too_slow(progress: &Progress, window: Duration, min_rate: u64) {
    let least = min_rate.saturating_mul(window.as_secs().max(1));
    let mut every = tokio::time::interval(window);
    every.tick().await;
    let mut before = 0;
    loop {
        every.tick().await;
        let written = progress.written.load(Ordering::Relaxed);
        let held_up = progress.held_up.swap(false, Ordering::Relaxed);
        if held_up && written - before < least {
            return;
        }
        before = written;
    }
}

/// The request head within `max_header_bytes` (its target and every header field), else 431 —
/// whatever the read buffer would have taken.
pub async fn bounded_head(
    axum::extract::State(max): axum::extract::State<MaxHeaderBytes>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let target = request.uri().path().len() + request.uri().query().map_or(0, str::len);
    let fields: usize =
        request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if target + fields > max.0 {
        let err = domain::AppError::HeadersTooLarge(format!(
            "The request's address and headers are larger than the {} bytes this server reads.",
            max.0
        ));
        return crate::errors::error_response(&err);
    }
    next.run(request).await
}

/// `max_header_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct MaxHeaderBytes(pub usize);

/// The peer address a connection came from (set on every request by [`serve`]).
pub fn peer(request: &axum::extract::Request) -> Option<SocketAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr)
}
