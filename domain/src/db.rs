//! The database connection: SQLite (embedded default) or PostgreSQL, chosen by the URL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use secrecy::ExposeSecret;

use crate::config::{Config, DatabaseKind};

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of the SQLite file is read through a memory mapping (SQLite's own ceiling, 2 GiB
/// less 64 KiB; the rest is read as usual). The pages are the OS cache's, shared by every
/// connection.
const SQLITE_MMAP_SIZE: u64 = 0x7fff_0000;

/// Opens the pool for `config`'s database, creating the SQLite file (and data dir) if missing.
///
/// SQLite connections run in WAL mode with foreign keys on, a busy timeout, and `synchronous =
/// FULL`: a commit is on disk when it returns (the group commit of new files shares that cost).
#[tracing::instrument(skip_all, fields(kind = ?config.database_kind()))]
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    open(config, config.database_url().expose_secret()).await
}

/// Opens the read replica's pool (`PANNIER_DATABASE_READ_URL`, PostgreSQL), if configured. It
/// connects lazily: an instance starts while its replica is down and reads from the primary.
pub async fn connect_replica(config: &Config) -> Result<Option<DatabaseConnection>, DbErr> {
    let Some(url) = &config.database_read_url else { return Ok(None) };
    let timeout = Duration::from_secs(config.database_timeout_secs.max(1));
    let mut options = ConnectOptions::new(url.expose_secret().to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        .connect_lazy(true);
    without_maintenance(&mut options);
    Database::connect(options).await.map(Some)
}

/// No idle timeout and no maximum lifetime, so sqlx starts no maintenance task for the pool:
/// sqlx 0.9.0's reads the idle count, which can wrap below zero for a moment while
/// connections churn, and then loops without yielding — seen once under the API fuzzer: a
/// runtime thread pinned at 100 %, requests stuck, the pool starved, shutdown hung. Connections
/// are checked before use anyway (a server restart is noticed then), and the pool never grows
/// past its maximum.
fn without_maintenance(options: &mut ConnectOptions) {
    options.idle_timeout(None).max_lifetime(None);
}

/// How far (seconds) a PostgreSQL standby's replay is behind what it received: 0 when caught
/// up; otherwise the age of the last transaction it replayed.
pub async fn replica_lag(replica: &DatabaseConnection) -> Result<f64, DbErr> {
    use sea_orm::ConnectionTrait;
    let sql = "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM \
               pg_last_wal_replay_lsn() THEN 0.0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - \
               pg_last_xact_replay_timestamp()), 0.0)::float8 END AS lag";
    let statement = sea_orm::Statement::from_string(replica.get_database_backend(), sql);
    let row =
        replica.query_one_raw(statement).await?.ok_or_else(|| DbErr::Custom("no answer".into()))?;
    row.try_get::<f64>("", "lag")
}

async fn open(config: &Config, url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let timeout = Duration::from_secs(config.database_timeout_secs.max(1));
    options.sqlx_logging(false).connect_timeout(timeout).acquire_timeout(timeout);
    without_maintenance(&mut options);
    if config.database_kind() == DatabaseKind::Sqlite {
        if url.contains(":memory:") {
            // Each connection to `:memory:` is its own database: keep exactly one, forever.
            options.max_connections(1).min_connections(1).idle_timeout(None);
        } else {
            tokio::fs::create_dir_all(&config.data_dir)
                .await
                .map_err(|e| DbErr::Custom(format!("cannot create data dir: {e}")))?;
        }
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // Pages read straight from the OS cache through a mapping, not copied by a
                // system call each (a search checks thousands of rows at random places).
                .pragma("mmap_size", SQLITE_MMAP_SIZE.to_string())
        });
    }
    Database::connect(options).await
}

/// How many statements a pool ran for requests (background work is left out: [`uncounted`]):
/// the hot paths' query counts are kept by a test (`server/tests/api/statements.rs`).
#[derive(Debug, Clone, Default)]
pub struct Statements(Arc<AtomicU64>);

impl Statements {
    /// Statements run so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static UNCOUNTED: ();
}

/// Runs background `work` (the janitor, the links' access batches) with its statements left
/// out of [`Statements`].
pub async fn uncounted<F: std::future::Future>(work: F) -> F::Output {
    UNCOUNTED.scope((), work).await
}

/// Observes every statement `db` runs: its latency and failures in the metrics (by verb),
/// and its count in `statements`; each with its time and text at `debug` level, target
/// `pannier::sql` (`PANNIER_LOG_LEVEL=info,pannier::sql=debug`).
pub fn observe(db: &mut DatabaseConnection, statements: Statements) {
    db.set_metric_callback(move |query| {
        if UNCOUNTED.try_with(|()| ()).is_err() {
            statements.0.fetch_add(1, Ordering::Relaxed);
        }
        let kind = query_kind(&query.statement.sql);
        tracing::debug!(
            target: "pannier::sql",
            ms = query.elapsed.as_secs_f64() * 1000.0,
            failed = query.failed,
            sql = %query.statement.sql,
        );
        metrics::histogram!("pannier_db_query_duration_seconds", "kind" => kind)
            .record(query.elapsed.as_secs_f64());
        if query.failed {
            metrics::counter!("pannier_db_query_errors_total", "kind" => kind).increment(1);
        }
    });
}

/// The statement's verb, as a metrics label (never the SQL itself).
fn query_kind(sql: &str) -> &'static str {
    let verb = sql.trim_start().split_ascii_whitespace().next().unwrap_or_default();
    ["select", "insert", "update", "delete", "with", "begin", "commit", "rollback"]
        .into_iter()
        .find(|kind| verb.eq_ignore_ascii_case(kind))
        .unwrap_or("other")
}

/// `(connections, idle)` in the pool, for the metrics.
pub fn pool_use(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }
}

/// A migrated SQLite database in memory, for service tests.
#[cfg(test)]
pub(crate) async fn memory_db() -> DatabaseConnection {
    use migration::{Migrator, MigratorTrait};
    let config = Config {
        database_url: Some(secrecy::SecretString::from("sqlite::memory:")),
        ..Config::default()
    };
    let db = connect(&config).await.expect("an in-memory database");
    Migrator::up(&db, None).await.expect("migrations apply");
    db
}

/// `text` for a `LIKE … ESCAPE '\'` pattern: its `%`, `_` and `\` match only themselves.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectionTrait, Statement};

    async fn pragma(db: &DatabaseConnection, sql: &str) -> String {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn sqlite_file_is_created_in_the_data_dir_with_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().join("nested"), ..Config::default() };
        let db = connect(&config).await.unwrap();
        assert!(dir.path().join("nested/pannier.db").is_file());
        assert_eq!(pragma(&db, "PRAGMA journal_mode").await, "wal");
        assert_eq!(pragma(&db, "PRAGMA foreign_keys").await, "1");
        assert_eq!(pragma(&db, "PRAGMA busy_timeout").await, "5000");
        // FULL: a commit has reached the disk when it returns (NORMAL in WAL mode may lose the
        // last commits to a power cut).
        assert_eq!(pragma(&db, "PRAGMA synchronous").await, "2");
        assert_eq!(pragma(&db, "PRAGMA mmap_size").await, SQLITE_MMAP_SIZE.to_string());
    }
}
