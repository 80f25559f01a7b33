//! The application state: built once by the server, shared by every handler and server fn.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::AppError;
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
    /// The database pool (the primary: every write, and reads that must see them).
    pub db: DatabaseConnection,
    /// A read replica's pool (`PANNIER_DATABASE_READ_URL`), if any: use [`AppState::read`].
    replica: Option<DatabaseConnection>,
    /// The replica's circuit breaker: while open, reads go to the primary.
    pub replica_breaker: Arc<Breaker>,
    /// The Redis shared by the instances, if configured ([`crate::cluster`]).
    pub redis: Option<Arc<crate::cluster::Redis>>,
    /// Set when the instance was told to stop: `/readyz` fails from then on.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
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

/// Every dependency's check, asked at the same time: the database and storage (which the
/// instance needs), and the read replica and Redis when configured (which it serves without).
#[derive(Debug, Clone)]
pub struct Checks {
    /// The database (the primary).
    pub database: Check,
    /// Where the bytes are.
    pub storage: Check,
    /// The read replica, if there is one.
    pub replica: Option<Check>,
    /// Redis, if configured.
    pub redis: Option<Check>,
}

impl Checks {
    /// Whether the instance can serve: its database and storage answer.
    pub fn ready(&self) -> bool {
        self.database.status == "ok" && self.storage.status == "ok"
    }
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
        let redis = config.redis_url.as_ref().and_then(|url| match crate::cluster::Redis::open(url) {
            Ok(redis) => Some(Arc::new(redis)),
            Err(err) => {
                // The configuration checked the URL; this is not expected.
                tracing::error!(error = %err, "PANNIER_REDIS_URL unusable; running without Redis");
                None
            }
        });
        let limits = Limits::from_config(&config, redis.as_ref());
        let db_breaker = Arc::new(Breaker::new("database", "the database"));
        let replica_breaker = Arc::new(Breaker::new("replica", "the read replica"));
        let accesses = Arc::default();
        let (mut db, statements) = (db, Statements::default());
        crate::db::observe(&mut db, statements.clone());
        let commits = Arc::default();
        Self {
            config: Arc::new(config),
            db,
            replica: None,
            replica_breaker,
            redis,
            draining: Arc::default(),
            storage,
            limits,
            db_breaker,
            accesses,
            statements,
            commits,
            site: Arc::default(),
        }
    }

    /// Reads go to `replica` from now on (see [`AppState::read`]).
    pub fn with_replica(mut self, replica: DatabaseConnection) -> Self {
        let mut replica = replica;
        crate::db::observe(&mut replica, self.statements.clone());
        self.replica = Some(replica);
        self
    }

    /// Runs read-only `work` (listings, share pages, metadata of `owner`'s files) on a state
    /// whose `db` is the read replica — unless there is none, it is failing (breaker open), or
    /// the owner's tree changed within [`crate::cache::READ_YOUR_WRITES`] (here or, through
    /// Redis, elsewhere): then on the primary, so people see their own writes. If the work
    /// fails on the replica it runs again on the primary (and an unreachable replica's
    /// breaker opens).
    pub async fn read<T, F, Fut>(&self, owner: Option<uuid::Uuid>, work: F) -> Result<T, AppError>
    where
        F: Fn(AppState) -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        let replica = self.replica.as_ref().filter(|_| {
            !self.replica_breaker.is_open() && !owner.is_some_and(crate::cache::wrote_recently)
        });
        let Some(replica) = replica else { return work(self.clone()).await };
        let on_replica = Self { db: replica.clone(), replica: None, ..self.clone() };
        metrics::counter!("pannier_db_reads_total", "on" => "replica").increment(1);
        match work(on_replica).await {
            // Unreachable: skipped until its probe answers. Anything else (a first listing
            // that creates the account's root folder cannot write there): this time only.
            Err(err @ (AppError::Internal | AppError::Unavailable(_))) => {
                if matches!(err, AppError::Unavailable(_)) {
                    self.replica_breaker.failed();
                }
                metrics::counter!("pannier_db_reads_total", "on" => "primary_after_replica_failed")
                    .increment(1);
                work(self.clone()).await
            }
            done => done,
        }
    }

    /// Whether a read replica is configured.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Pings the database (and the replica) every second, opening and closing their
    /// breakers; runs until dropped.
    pub async fn watch_database(&self) {
        let primary = breaker::watch(&self.db_breaker, || async { self.db.ping().await.is_ok() });
        match &self.replica {
            Some(replica) => {
                let max_lag = self.config.replica_max_lag_secs as f64;
                let replica = breaker::watch(&self.replica_breaker, || async move {
                    crate::db::replica_lag(replica).await.is_ok_and(|lag| lag <= max_lag)
                });
                tokio::join!(primary, replica);
            }
            None => primary.await,
        }
    }

    /// For `/readyz`: the replica's state. Informational: reads fall back to the primary.
    pub async fn check_replica(&self) -> Option<Check> {
        let replica = self.replica.as_ref()?;
        if self.replica_breaker.is_open() {
            return Some(Check::failed(
                "read replica unreachable (breaker open): reading from the primary",
            ));
        }
        Some(match tokio::time::timeout(breaker::PROBE_EVERY, replica.ping()).await {
            Ok(Ok(())) => Check::ok(),
            _ => Check::failed("read replica not answering: reading from the primary"),
        })
    }

    /// Every dependency's check, at the same time (`/readyz`, the admin's status page).
    pub async fn check_all(&self) -> Checks {
        let redis = async {
            match &self.redis {
                Some(redis) => Some(redis.check().await),
                None => None,
            }
        };
        let (database, storage, replica, redis) =
            tokio::join!(self.check_database(), self.storage.check(), self.check_replica(), redis);
        Checks { database, storage, replica, redis }
    }

    /// The database's breaker is closed and a ping answers within a second.
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
