//! The connection layer (what axum's `serve` leaves out): hyper with a timer, so a client that
//! does not send a whole request head within `header_timeout_secs` is cut — a slowloris
//! trickle, and a keep-alive connection left idle alike; caps on open connections, in all and
//! per client address (trusted proxies exempt), so one client cannot take every slot — past
//! either a new connection is closed at once, before any byte is read; and a bounded request
//! head: at most `max_headers` fields, and a read buffer of [`READ_BUFFER`] that no head can
//! outgrow (431; [`bounded_head`] holds heads to `max_header_bytes`). Shutdown stops
//! accepting, then lets every connection finish its request.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::client::TrustedProxies;

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
}

impl ConnectionRules {
    /// The rules the configuration sets.
    pub fn from_config(config: &domain::config::Config) -> Self {
        Self {
            header_timeout: Duration::from_secs(config.header_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
            max_connections_per_address: config.max_connections_per_address.max(1),
            max_headers: config.max_headers.max(1),
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
    let per_address = PerAddress::default();
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
        let exempt = proxies.trusts(address);
        let Some(slot) = per_address.enter(address, rules.max_connections_per_address, exempt)
        else {
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
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %peer, "connection ended with an error");
            }
            drop((slot, permit));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Open connections per client address.
#[derive(Debug, Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One open connection of an address; leaving (drop) frees its place.
struct AddressSlot {
    counts: PerAddress,
    address: IpAddr,
}

impl PerAddress {
    /// A place for one more connection from `address`, unless it has `max` already.
    fn enter(&self, address: IpAddr, max: usize, exempt: bool) -> Option<Option<AddressSlot>> {
        if exempt {
            return Some(None);
        }
        let mut counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let open = counts.entry(address).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Some(AddressSlot { counts: self.clone(), address }))
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = counts.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.address);
            }
        }
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
