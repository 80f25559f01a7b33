//! The application state: built once by the server, shared by every handler and server fn.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::limits::Limits;
use crate::storage::BlobStore;

/// Everything a request handler needs from the outside world.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The loaded configuration.
    pub config: Arc<Config>,
    /// The database pool.
    pub db: DatabaseConnection,
    /// Where file bytes live.
    pub storage: BlobStore,
    /// The rate-limit budgets and their counts.
    pub limits: Limits,
}

/// The result of a readiness check of one dependency.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// `ok` or `error`.
    pub status: &'static str,
    /// What failed, when it did (no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AppState {
    /// The state for `config`, with the rate-limit budgets it sets.
    pub fn new(config: Config, db: DatabaseConnection, storage: BlobStore) -> Self {
        let limits = Limits::from_config(&config);
        Self { config: Arc::new(config), db, storage, limits }
    }

    /// Pings the database; used by `/readyz`.
    pub async fn check_database(&self) -> Check {
        match self.db.ping().await {
            Ok(()) => Check { status: "ok", error: None },
            Err(err) => {
                tracing::warn!(error = %err, "database not ready");
                Check { status: "error", error: Some("database unreachable".into()) }
            }
        }
    }
}
