//! Building the application (database, migrations, router, listener) and running it until a
//! shutdown signal, finishing in-flight requests first.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use app::{App, shell};
use axum::extract::{DefaultBodyLimit, FromRef, Request};
use axum::handler::HandlerWithoutStateExt;
use axum::middleware;
use axum::routing::get;
use axum::{Extension, Router};
use domain::config::Config;
use domain::state::AppState;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{
    AxumRouteListing, LeptosRoutes, generate_route_list, render_app_to_stream_in_order_with_context,
};
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::edge::client::TrustedProxies;
use crate::edge::headers::Https;
use crate::edge::limits::{AtOnce, RequestDeadline, UploadPace};
use crate::edge::serve::{ConnectionRules, MaxHeaderBytes};
use crate::{api_v1, assets, auth, edge, errors, health, snapshots};

/// The router's state: Leptos' options for the page routes, `AppState` for everything else.
#[derive(Clone, FromRef)]
pub struct ServerState {
    /// Where the site lives and how its assets are named.
    pub leptos_options: LeptosOptions,
    /// The services.
    pub app: AppState,
}

/// A built application: migrated database, router, bound listener.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    shutdown_timeout: Duration,
    connections: ConnectionRules,
    proxies: TrustedProxies,
    metrics: Option<TcpListener>,
}

impl Application {
    /// Connects to the database, applies pending migrations, builds the router and binds.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let proxies = TrustedProxies::parse(&config.trusted_proxies).map_err(anyhow::Error::msg)?;
        domain::auth::password::set_concurrency(config.password_hashing_concurrency);
        let db = domain::db::connect(&config).await.context("cannot open the database")?;
        Migrator::up(&db, None).await.context("cannot apply database migrations")?;
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let shutdown_timeout = Duration::from_secs(config.shutdown_timeout_secs);
        let mut config = config;
        if config.public_url.is_none() {
            // Port 0 (tests) binds a random port: the origin is the one actually bound.
            config.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let storage = domain::storage::BlobStore::from_config(&config)
            .await
            .context("cannot open storage")?;
        let replica =
            domain::db::connect_replica(&config).await.context("cannot open the read replica")?;
        let connections = ConnectionRules::from_config(&config);
        let mut state = AppState::new(config, db, storage);
        if let Some(replica) = replica {
            state = state.with_replica(replica);
        }
        let router = router(state.clone(), proxies.clone());
        let metrics = crate::metrics::listen(&state).await;
        Ok(Self { listener, router, state, shutdown_timeout, connections, proxies, metrics })
    }

    /// The services the router was built with (tests reach the same database pool through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until `signal` completes, then lets in-flight requests finish for at most the
    /// configured shutdown timeout.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stopping = Arc::new(Notify::new());
        let notify = Arc::clone(&stopping);
        let proxies = self.proxies;
        let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
        let workers = start_workers(&self.state, self.state.config.workers, &workers_stop).await?;
        let draining = Arc::clone(&self.state.draining);
        let drain_delay = Duration::from_secs(self.state.config.drain_delay_secs);
        let server =
            edge::serve::serve(self.listener, self.router, self.connections, proxies, async move {
                signal.await;
                // Load balancers that poll /readyz stop sending work; the workers let go now.
                draining.store(true, std::sync::atomic::Ordering::Release);
                let _ = stop_workers.send(true);
                if !drain_delay.is_zero() {
                    tracing::info!(?drain_delay, "draining: /readyz fails, still serving");
                    tokio::time::sleep(drain_delay).await;
                }
                tracing::info!(
                    "shutting down: refusing connections, finishing in-flight requests and jobs"
                );
                notify.notify_one();
            });
        let timeout = self.shutdown_timeout;
        let limits = tokio::spawn(forget_idle_limits(self.state.clone()));
        let state = self.state.clone();
        let breaker = tokio::spawn(async move { state.watch_database().await });
        let state = self.state.clone();
        let accesses = tokio::spawn(async move { state.accesses.keep_writing(&state.db).await });
        let bus = self.state.redis.as_ref().map(domain::cluster::join).unwrap_or_default();
        let metrics = self
            .metrics
            .map(|listener| tokio::spawn(crate::metrics::serve(listener, self.state.clone())));
        tokio::select! {
            () = server => {}
            () = async { stopping.notified().await; tokio::time::sleep(timeout).await } => {
                tracing::warn!(?timeout, "in-flight requests did not finish in time; stopping anyway");
            }
        }
        // Told to stop with the signal, the workers finish or release their jobs in time.
        if tokio::time::timeout(timeout, workers.join_all()).await.is_err() {
            tracing::warn!("job workers did not stop in time");
        }
        limits.abort();
        breaker.abort();
        bus.iter().for_each(tokio::task::JoinHandle::abort);
        accesses.abort();
        if let Err(err) = self.state.accesses.flush(&self.state.db).await {
            tracing::warn!(error = %err, "could not write the links' last accesses");
        }
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Every minute until the server stops: forgets rate-limit keys idle long enough to be full
/// again (this instance's memory; the cluster's housekeeping is a recurring job).
async fn forget_idle_limits(state: AppState) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        state.limits.forget_idle();
    }
}

/// Starts the configured job workers (none with `workers = 0`) after queueing the recurring
/// jobs and saying which previews this machine cannot make. They stop when `stop` turns
/// `true`; a job still running has three quarters of the shutdown timeout to finish, then is
/// released for another worker.
pub async fn start_workers(
    state: &AppState,
    count: usize,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinSet<()>> {
    domain::jobs::schedule_recurring(&state.db)
        .await
        .map_err(|err| anyhow::anyhow!("cannot queue the recurring jobs: {err}"))?;
    if count > 0 {
        for missing in domain::media::tools().await.missing() {
            tracing::warn!("previews: {missing}");
        }
    }
    let grace = Duration::from_secs(state.config.shutdown_timeout_secs) * 3 / 4;
    Ok(domain::jobs::spawn_workers(state, count, stop, grace))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled: a signal sent as soon as the server says it is listening
/// is a graceful stop, not the default action (the process killed).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let wait = |handler: std::io::Result<tokio::signal::unix::Signal>| async move {
                match handler {
                    Ok(mut handler) => {
                        handler.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Leptos' options, from Pannier's configuration (no `LEPTOS_*` variables needed).
///
/// cargo-leptos writes the asset hashes to `hash.txt` beside the server binary; Leptos reads
/// them from there. Without it (a binary built by plain `cargo build`), unhashed names are used.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let hash_file_present = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|path| path.is_file());
    if !hash_file_present {
        tracing::warn!("hash.txt not found beside the binary: build with `cargo leptos build`");
    }
    LeptosOptions::builder()
        .output_name("pannier")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.bind)
        .hash_files(hash_file_present)
        .build()
}

/// The whole HTTP surface — health, the API, share routes, pages and server fns, static files,
/// the 404 page — with the edge (`crate::edge`) composed around it: client identification,
/// request ids, tracing and security headers for everything; load shedding, sessions, CSRF
/// and the general rate-limit budget for everything but the health checks; the deadline and
/// the uploads/downloads budgets on the routers they apply to.
pub fn router(state: AppState, proxies: TrustedProxies) -> Router {
    let options = leptos_options(&state.config);
    let site_root = PathBuf::from(options.site_root.as_ref());
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let app_shell = {
        let options = options.clone();
        move || shell(options.clone())
    };
    let render_404 = render_app_to_stream_in_order_with_context(context.clone(), app_shell.clone());
    let not_found = (move |request: Request| render_404(request)).into_service();
    let server_state = ServerState { leptos_options: options, app: state };

    let session_layer = auth::session_layer(&server_state.app);
    let app_state = server_state.app.clone();
    let config = Arc::clone(&app_state.config);
    // What any route reads whole; upload routes stream past it (api_v1).
    let document_size = usize::try_from(config.max_document_size.bytes()).unwrap_or(usize::MAX);
    let in_flight = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let deadline = RequestDeadline(Duration::from_secs(config.request_timeout_secs.max(1)));
    let upload_pace = UploadPace {
        idle: Duration::from_secs(config.upload_idle_timeout_secs.max(1)),
        min_rate: config.min_transfer_rate,
    };
    let pages = Router::new()
        .leptos_routes_with_context(&server_state, route_list(), context, app_shell)
        .route_layer(middleware::from_fn_with_state(server_state.app.clone(), snapshots::serve))
        // Server fns are routed here too: their errors get their status before compression.
        .route_layer(middleware::from_fn(errors::server_fn_status))
        .route_layer(middleware::from_fn(edge::limits::deadline))
        .route_layer(edge::compression());
    let signed = Router::new()
        .route("/c/{token}", get(api_v1::content::signed))
        .route_layer(middleware::from_fn(edge::limits::downloads));
    let app = Router::new()
        .nest("/api/v1", api_v1::router())
        .route("/api/{version}/{*rest}", axum::routing::any(api_v1::unknown_version))
        .route("/api", get(api_v1::reference::page))
        .merge(crate::shares::router())
        .merge(signed)
        .merge(pages)
        .fallback_service(assets::router(&site_root, not_found))
        .with_state(server_state)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(in_flight, edge::limits::shed))
                .layer(middleware::from_fn_with_state(
                    Arc::clone(&app_state.db_breaker),
                    edge::limits::database_up,
                ))
                .layer(DefaultBodyLimit::max(document_size))
                .layer(middleware::from_fn(api_v1::uploads::tus_protocol))
                .layer(middleware::from_fn_with_state(app_state.clone(), auth::csrf))
                .layer(session_layer)
                .layer(middleware::from_fn_with_state(app_state.clone(), auth::identify))
                .layer(middleware::from_fn(edge::limits::requests)),
        );
    let health = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(app_state.clone());
    let max_head = MaxHeaderBytes(config.max_header_bytes);
    health.merge(app).layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn_with_state(max_head, edge::serve::bounded_head))
            .layer(middleware::from_fn(edge::unread::read_to_end))
            .layer(middleware::from_fn_with_state(proxies, edge::client::identify_client))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(middleware::from_fn_with_state(
                Https(config.is_https()),
                edge::headers::security_headers,
            ))
            .layer(Extension(app_state.limits.clone()))
            .layer(Extension(AtOnce::new(config.max_uploads_at_once, config.max_zips_at_once)))
            .layer(Extension(deadline))
            .layer(Extension(upload_pace))
            .layer(middleware::from_fn(crate::metrics::track))
            .layer(middleware::from_fn_with_state(app_state.draining.clone(), close_when_draining)),
    )
}

/// While draining, every answer says `Connection: close`: keep-alive clients (a proxy's
/// upstream connections) reconnect, and reach an instance that is not stopping.
async fn close_when_draining(
    axum::extract::State(draining): axum::extract::State<Arc<std::sync::atomic::AtomicBool>>,
    request: Request,
    next: middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if draining.load(std::sync::atomic::Ordering::Acquire) {
        response
            .headers_mut()
            .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    response
}

/// The app's routes, generated once per process. Generating them renders the app with resource
/// loading suppressed process-wide, which would stall any page another router in the same
/// process (the integration tests run many) is rendering at that moment.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// One span per request, carrying the request id so every log line can be traced back.
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
        request_id = %request_id,
    )
}

/// A request path as it may be logged: a share link's slug and a signed content link's token
/// are secrets (whoever reads the log could use them), so only their first characters stay.
pub fn loggable_path(path: &str) -> String {
    let mut parts = path.splitn(4, '/');
    let (Some(""), Some(kind @ ("s" | "c")), Some(secret)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return path.to_owned();
    };
    let kept: String = secret.chars().take(4).collect();
    let rest = parts.next().map(|rest| format!("/{rest}")).unwrap_or_default();
    format!("/{kind}/{kept}…{rest}")
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn share_slugs_and_content_tokens_are_cut_from_logged_paths() {
        let slug = "AbCdEfGhIjKlMnOpQrStUvWx";
        assert_eq!(loggable_path(&format!("/s/{slug}")), "/s/AbCd…");
        assert_eq!(loggable_path(&format!("/s/{slug}/files/x")), "/s/AbCd…/files/x");
        assert_eq!(loggable_path("/c/0123456789abcdef.99.d.sig"), "/c/0123…");
        assert_eq!(loggable_path("/api/v1/files"), "/api/v1/files");
        assert_eq!(loggable_path("/shares"), "/shares");
    }
}
