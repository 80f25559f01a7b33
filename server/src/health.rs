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

/// Readiness: 200 when every dependency answers, 503 with the failing one named otherwise.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (database, storage) = tokio::join!(state.check_database(), state.storage.check());
    let ok = database.status == "ok" && storage.status == "ok";
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if ok { "ok" } else { "error" },
        "checks": { "database": database, "storage": storage },
    });
    (status, Json(body))
}
