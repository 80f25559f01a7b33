//! Metrics in the Prometheus text format, served at `/metrics` on a listener of their own
//! (`PANNIER_METRICS_BIND`, `127.0.0.1:9464`; never the public one — behind a proxy every
//! request looks local), with an optional bearer token (`PANNIER_METRICS_TOKEN`).
//!
//! Recorded where they happen, with the `metrics` facade: requests by route template, method
//! and status class ([`track`]); refusals by reason (`edge::limits`); rate-limited requests
//! by budget and database queries by kind (`domain`); storage calls by operation and outcome
//! and breaker states (`domain::storage::s3`, `domain::breaker`); bytes moved, uploads and
//! zips (`edge::limits`). Pool use and live sessions are read when scraped.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::state::AppState;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

/// Latency buckets (seconds) of every duration histogram.
const BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process's recorder, installed on first use (the `metrics` macros are no-ops before).
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            let handle = installed
                .map_err(|err| tracing::error!(error = %err, "cannot record metrics"))
                .ok()?;
            // Histograms keep samples until upkeep folds them into the buckets: bound that.
            let upkeep = handle.clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
            Some(handle)
        })
        .as_ref()
}

/// The metrics listener of `state`'s configuration, or `None` when `metrics_bind` is empty.
/// A port already taken is logged and skipped: metrics never keep the site from starting.
pub async fn listen(state: &AppState) -> Option<TcpListener> {
    let address: SocketAddr = state.config.metrics_address().ok().flatten()?;
    recorder()?;
    match TcpListener::bind(address).await {
        Ok(listener) => Some(listener),
        Err(err) => {
            tracing::error!(%address, error = %err, "cannot serve /metrics there; set PANNIER_METRICS_BIND");
            None
        }
    }
}

/// Serves `GET /metrics` on `listener` until the future is dropped.
pub async fn serve(listener: TcpListener, state: AppState) {
    let router = Router::new().route("/metrics", get(scrape)).with_state(state);
    if let Err(err) = axum::serve(listener, router).await {
        tracing::error!(error = %err, "the metrics listener stopped");
    }
}

async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Digests compared, so the time taken says nothing about the token.
        if domain::auth::sha256_hex(presented) != domain::auth::sha256_hex(token.expose_secret()) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "")
                .into_response();
        }
    }
    let (connections, idle) = domain::db::pool_use(&state.db);
    metrics::gauge!("pannier_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("pannier_db_pool_connections", "state" => "busy")
        .set(f64::from(connections).max(idle as f64) - idle as f64);
    if let Ok(sessions) = domain::sessions::count_live(&state.db).await {
        metrics::gauge!("pannier_sessions").set(sessions as f64);
    }
    let Some(recorder) = recorder() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let body = recorder.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Counts every request by route template (never the raw path: ids and share slugs would make
/// a series each), method and status class, times it to its response head, and keeps the
/// number in flight; and in the last hour's minutes the status page draws
/// ([`domain::traffic`]).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let in_flight = metrics::gauge!("http_requests_in_flight");
    in_flight.increment(1.0);
    let _done = scopeguard(move || in_flight.decrement(1.0));
    let started = Instant::now();
    let response = next.run(request).await;
    domain::traffic::note(response.status().as_u16());
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let labels = [("route", route), ("method", method), ("status", status.to_owned())];
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("http_requests_total", &labels).increment(1);
    response
}

/// Runs `f` when dropped (a request cancelled mid-way still leaves the in-flight gauge).
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
