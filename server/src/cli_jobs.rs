//! `pannier worker` and `pannier jobs …`: the job queue from the shell.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use domain::config::Config;
use domain::ids::JobId;
use domain::state::AppState;

use crate::startup::{shutdown_signal, start_workers};

/// `pannier jobs …`.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// List jobs (dead ones first), at most 100.
    List {
        /// Only jobs in this state: queued, running or dead.
        #[arg(long)]
        state: Option<String>,
    },
    /// Run a dead (or waiting) job again now, its attempts reset.
    Retry {
        /// The job's id.
        id: JobId,
    },
    /// Delete a job that is not running.
    Cancel {
        /// The job's id.
        id: JobId,
    },
    /// Run every job that is due now, then exit (exit 1 if any is left or dead).
    Run,
    /// Queue previews for media files that have none (uploaded before previews existed, or
    /// while ffmpeg or pdftoppm was missing).
    EnqueuePreviews,
}

/// `pannier worker`: job workers only, no web server, until SIGTERM/SIGINT.
pub async fn worker(state: AppState) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let count = state.config.workers.max(1);
    let signal = shutdown_signal();
    let workers = start_workers(&state, count, &stopped).await?;
    // What the jobs change (previews) is announced to the instances' caches.
    let bus = state.redis.as_ref().map(domain::cluster::join).unwrap_or_default();
    let breaker_state = state.clone();
    let breaker = tokio::spawn(async move { breaker_state.watch_database().await });
    tracing::info!(count, "job workers running");
    signal.await;
    tracing::info!("stopping: finishing or releasing running jobs");
    let _ = stop.send(true);
    let timeout = Duration::from_secs(state.config.shutdown_timeout_secs);
    if tokio::time::timeout(timeout, workers.join_all()).await.is_err() {
        tracing::warn!("job workers did not stop in time");
    }
    breaker.abort();
    bus.iter().for_each(tokio::task::JoinHandle::abort);
    tracing::info!("stopped");
    Ok(())
}

/// `pannier jobs …`.
pub async fn jobs(action: JobsAction, state: AppState) -> anyhow::Result<()> {
    let db = &state.db;
    let mut out = std::io::stdout().lock();
    match action {
        JobsAction::List { state: wanted } => {
            let counts = domain::jobs::counts(db).await.map_err(app_error)?;
            writeln!(
                out,
                "queued: {}, running: {}, dead: {}",
                counts.queued, counts.running, counts.dead
            )?;
            for job in domain::jobs::list(db, wanted.as_deref(), 100).await.map_err(app_error)? {
                let error = job.last_error.as_deref().unwrap_or("");
                writeln!(
                    out,
                    "{}  {:<8} {:<13} {}/{}  {}  {}  {}",
                    job.id,
                    job.state,
                    job.kind,
                    job.attempts,
                    job.max_attempts,
                    job.run_after,
                    job.payload,
                    error
                )?;
            }
        }
        JobsAction::Retry { id } => {
            domain::jobs::retry(db, id).await.map_err(app_error)?;
            writeln!(out, "queued to run now: {id}")?;
        }
        JobsAction::Cancel { id } => {
            domain::jobs::cancel(db, id).await.map_err(app_error)?;
            writeln!(out, "deleted: {id}")?;
        }
        JobsAction::Run => {
            let drained = domain::jobs::drain(&state).await.map_err(app_error)?;
            let left = drained.left;
            writeln!(
                out,
                "ran: {}, left due: {}, running elsewhere: {}, dead: {}",
                drained.ran, left.queued, left.running, left.dead
            )?;
            anyhow::ensure!(left.queued + left.dead == 0, "jobs are left due or dead");
        }
        JobsAction::EnqueuePreviews => {
            let queued = domain::media::backfill(&state).await.map_err(app_error)?;
            writeln!(out, "previews queued: {queued}")?;
        }
    }
    Ok(())
}

fn app_error(err: domain::AppError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// The state a command that runs jobs needs (database and storage; no listener).
pub async fn state(config: Config, db: sea_orm::DatabaseConnection) -> anyhow::Result<AppState> {
    let storage = domain::storage::BlobStore::from_config(&config).await?;
    Ok(AppState::new(config, db, storage))
}
