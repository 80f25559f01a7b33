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
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, storage) = tokio::join!(state.check_database(), state.storage.check());
    let ok = database.status == "ok" && storage.status == "ok";
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut database = json!(database);
    database["breaker"] = state.db_breaker.state().into();
    let mut storage = json!(storage);
    if let Some(breaker) = state.storage.breaker() {
        storage["breaker"] = breaker.state().into();
    }
    let body = json!({
        "status": if ok { "ok" } else { "error" },
        "checks": { "database": database, "storage": storage },
    });
    (status, Json(body))
}
