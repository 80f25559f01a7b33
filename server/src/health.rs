//! Operations endpoints: `/healthz` (the process answers) and `/readyz` (its dependencies do).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::state::AppState;
use serde_json::{Value, json};

/// Liveness: answers as long as the process serves HTTP. Never touches a dependency.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Readiness: 200 when every dependency answers, 503 with the failing one named otherwise,
/// with the state of each circuit breaker (`closed`, `open`; local disk has none).
///
/// Redis and a read replica are reported but do not fail readiness: the instance serves
/// without them (rate limits count here, reads go to the primary). A draining instance (told
/// to stop) fails at once, so load balancers move on.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.draining.load(std::sync::atomic::Ordering::Acquire) {
        let body = json!({ "status": "draining", "checks": {} });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    let checks = state.check_all().await;
    let ok = checks.ready();
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let domain::state::Checks { database, storage, replica, redis } = checks;
    let mut database = json!(database);
    database["breaker"] = state.db_breaker.state().into();
    let mut storage = json!(storage);
    if let Some(breaker) = state.storage.breaker() {
        storage["breaker"] = breaker.state().into();
    }
    let mut checks = json!({ "database": database, "storage": storage });
    if let Some(mut replica) = replica.map(|check| json!(check)) {
        replica["breaker"] = state.replica_breaker.state().into();
        checks["replica"] = replica;
    }
    if let Some(redis) = redis {
        checks["redis"] = json!(redis);
    }
    let body = json!({ "status": if ok { "ok" } else { "error" }, "checks": checks });
    (status, Json(body))
}
