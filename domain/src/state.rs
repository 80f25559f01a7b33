//! The application state: built once by the server, shared by every handler and server fn.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::breaker::{self, Breaker};
use crate::config::Config;
use crate::db::Statements;
use crate::files::group_commit::GroupCommit;
use crate::limits::Limits;
use crate::shares::access::Accesses;
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
    /// The database's circuit breaker, kept by [`AppState::watch_database`]. (Storage keeps
    /// its own: [`BlobStore::breaker`].)
    pub db_breaker: Arc<Breaker>,
    /// Links' access log and counters, written in batches ([`Accesses::keep_writing`]).
    pub accesses: Arc<Accesses>,
    /// How many statements `db` ran.
    pub statements: Statements,
    /// The writer of new files' rows, in batches.
    pub commits: Arc<GroupCommit>,
    /// The instance's name and tagline, under the auth epoch they were read at
    /// ([`crate::settings::cached_site_info`]).
    pub site: Arc<std::sync::Mutex<Option<(u64, crate::site::SiteInfo)>>>,
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
        let db_breaker = Arc::new(Breaker::new("database", "the database"));
        let accesses = Arc::default();
        let (mut db, statements) = (db, Statements::default());
        crate::db::observe(&mut db, statements.clone());
        let commits = Arc::default();
        Self {
            config: Arc::new(config),
            db,
            storage,
            limits,
            db_breaker,
            accesses,
            statements,
            commits,
            site: Arc::default(),
        }
    }

    /// Pings the database every second, opening and closing its breaker; runs until dropped.
    pub async fn watch_database(&self) {
        breaker::watch(&self.db_breaker, || async { self.db.ping().await.is_ok() }).await;
    }

    /// For `/readyz`: the database's breaker is closed and a ping answers within a second.
    pub async fn check_database(&self) -> Check {
        if self.db_breaker.is_open() {
            return Check::failed("database unreachable (breaker open)");
        }
        match tokio::time::timeout(breaker::PROBE_EVERY, self.db.ping()).await {
            Ok(Ok(())) => Check::ok(),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "database not ready");
                Check::failed("database unreachable")
            }
            Err(_) => Check::failed("database not answering"),
        }
    }
}

impl Check {
    /// A dependency that answers.
    pub fn ok() -> Self {
        Self { status: "ok", error: None }
    }

    /// A dependency that does not, and why.
    pub fn failed(why: &str) -> Self {
        Self { status: "error", error: Some(why.to_owned()) }
    }
}
