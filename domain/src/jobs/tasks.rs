//! What jobs do: each [`Task`], how often it may be tried, and running it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppError;
use crate::state::AppState;

/// One kind of work and what it works on; stored as JSON in the job's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// Thumbnails, placeholder and media details of a new file (`crate::media`).
    Previews {
        /// The file.
        file: Uuid,
    },
    /// The text inside a file, for search (`crate::search::extract_text`).
    ExtractText {
        /// The file.
        file: Uuid,
    },
    /// Reads the text of files that have none stored, a batch at a time (files after `after`),
    /// then queues itself for the next batch.
    SearchBackfill {
        /// Where this batch starts (the nil id: the beginning).
        after: Uuid,
    },
    /// The hourly housekeeping: expired sessions, bytes of deleted files, abandoned uploads,
    /// upload keys of a day ago, old access-log entries, the signing key's rotation, leftovers
    /// of crashed uploads and of previews cut off, text extraction for files that have none.
    Housekeeping,
}

/// Every hour, once per cluster.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);
/// Leftovers of uploads cut off longer ago than this are removed (a crashed process's).
const STALE_WRITE: Duration = Duration::from_secs(24 * 3600);

impl Task {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Previews { .. } => "previews",
            Self::ExtractText { .. } => "extract_text",
            Self::SearchBackfill { .. } => "search_backfill",
            Self::Housekeeping => "housekeeping",
        }
    }

    /// Attempts before the job is dead.
    pub(super) fn max_attempts(&self) -> i32 {
        match self {
            Self::Previews { .. } | Self::ExtractText { .. } => 3,
            Self::SearchBackfill { .. } | Self::Housekeeping => 5,
        }
    }

    /// A recurring task's period.
    pub(super) fn every(&self) -> Option<Duration> {
        match self {
            Self::Previews { .. } | Self::ExtractText { .. } | Self::SearchBackfill { .. } => None,
            Self::Housekeeping => Some(HOUSEKEEPING_EVERY),
        }
    }

    /// A task with a key is queued at most once at a time.
    pub(super) fn unique_key(&self) -> Option<String> {
        Some(match self {
            Self::Previews { file } => format!("previews:{file}"),
            Self::ExtractText { file } => format!("extract_text:{file}"),
            // Keyed by its batch: the next batch is queued while this one still runs.
            Self::SearchBackfill { after } => format!("search_backfill:{after}"),
            Self::Housekeeping => "housekeeping".to_owned(),
        })
    }

    /// Does the work. Every task is idempotent: running it twice does no harm.
    pub(super) async fn run(self, state: &AppState) -> Result<(), Failure> {
        match self {
            Self::Previews { file } => crate::media::make_previews(state, file).await?,
            Self::ExtractText { file } => crate::search::extract_text(state, file).await?,
            Self::SearchBackfill { after } => {
                if let Some(next) = crate::search::backfill_batch(state, after).await? {
                    let next = Self::SearchBackfill { after: next };
                    super::enqueue(&state.db, &next).await?;
                    super::poke();
                }
            }
            Self::Housekeeping => housekeeping(state).await?,
        }
        Ok(())
    }
}

/// Why an attempt failed, and whether another could succeed.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub message: String,
    pub retry: bool,
}

impl From<AppError> for Failure {
    /// A service's error: the database or storage may answer next time.
    fn from(err: AppError) -> Self {
        Self { message: err.to_string(), retry: true }
    }
}

/// Queues the recurring tasks unless they are (one row each, whatever the instances).
pub async fn schedule_recurring(db: &impl sea_orm::ConnectionTrait) -> Result<(), AppError> {
    super::enqueue(db, &Task::Housekeeping).await
}

/// The housekeeping; every step runs even if one fails, and the job fails (is retried) if any
/// did, saying which.
async fn housekeeping(state: &AppState) -> Result<(), Failure> {
    let mut failed = None;
    let mut step = |what: &'static str, done: Result<u64, AppError>| match done {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "housekeeping: {what}"),
        Err(err) => {
            tracing::warn!(error = %err, "housekeeping: {what} failed");
            let message = format!("{what}: {err} (the log has the cause)");
            failed = Some(Failure { message, retry: true });
        }
    };
    step("delete expired sessions", crate::sessions::delete_expired(&state.db).await);
    let purged = crate::files::purge_deleted_blobs(state, None).await;
    step("remove the bytes of deleted files", Ok(purged as u64));
    step(
        "expire abandoned resumable uploads",
        count(crate::uploads::expire_abandoned(state).await),
    );
    step("prune the share access logs", count(crate::shares::prune_events(state).await));
    let rotated = crate::files::rotate_signing_keys(&state.db, false).await;
    step("rotate the link-signing key", rotated.map(u64::from));
    let stale = crate::uploads::remove_stale_writes(state, STALE_WRITE).await;
    step("remove leftovers of cut-off uploads", count(stale));
    step("forget the upload keys of a day ago", crate::files::forget_old_keys(&state.db).await);
    let workspaces = crate::media::remove_stale_workspaces(state).await;
    step("remove workspaces of previews cut off", workspaces);
    step("files whose text search still has to read", crate::search::backfill(&state.db).await);
    match failed {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

fn count<N: TryInto<u64>>(done: Result<N, AppError>) -> Result<u64, AppError> {
    done.map(|n| n.try_into().unwrap_or(u64::MAX))
}
