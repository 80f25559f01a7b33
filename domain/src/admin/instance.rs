//! The admin's status page: this instance's version and dependencies, the job queue, who is
//! signed in, and the last hour of its traffic.

use sea_orm::DbBackend;

use super::{ServiceState, StatusPanel};
use crate::AppError;
use crate::auth::Identity;
use crate::state::{AppState, Check};
use crate::storage::BlobStore;

/// The status page's data (admins only).
pub async fn status(state: &AppState, admin: &Identity) -> Result<StatusPanel, AppError> {
    admin.require_admin()?;
    let checks = state.check_all().await;
    let engine = match state.db.get_database_backend() {
        DbBackend::Postgres => "PostgreSQL",
        _ => "SQLite",
    };
    let storage = match state.storage {
        BlobStore::Local(_) => "local disk",
        _ => "S3",
    };
    let service = |name: String, check: Check| ServiceState {
        name,
        ok: check.status == "ok",
        error: check.error,
    };
    let mut services = vec![
        service(format!("Database ({engine})"), checks.database),
        service(format!("Storage ({storage})"), checks.storage),
    ];
    services.extend(checks.replica.map(|check| service("Read replica".into(), check)));
    services.extend(checks.redis.map(|check| service("Redis".into(), check)));
    Ok(StatusPanel {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        services,
        workers: state.config.workers as u64,
        jobs: crate::jobs::counts(&state.db).await?,
        sessions: crate::sessions::count_live(&state.db).await?,
        traffic: crate::traffic::last_hour(),
    })
}
