//! The durable job queue: work that must survive a crash and run once across instances —
//! previews of new files, the hourly housekeeping. Jobs live in the database and are enqueued
//! in the same transaction as the change that causes them (a file row and its preview job
//! commit together, or neither does). Workers (inside `serve`, or `pannier worker`) claim one
//! at a time under a lease they keep renewing; a job whose worker died is claimed again once
//! its lease ran out. A failure is retried with exponential backoff and jitter up to the job's
//! attempts, then the job is `dead`: kept, with its error, for an admin to retry or delete.
//! Done jobs are deleted; recurring ones are queued again for their next run, so a cluster
//! runs them once, whatever the number of instances.
//!
//! Without `server` this module holds what the admin page shows.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
mod admin;
#[cfg(feature = "server")]
mod queue;
#[cfg(feature = "server")]
mod tasks;
#[cfg(feature = "server")]
mod worker;

#[cfg(feature = "server")]
pub use admin::{cancel, counts, list, retry};
#[cfg(feature = "server")]
pub use queue::{enqueue, poke};
#[cfg(feature = "server")]
pub use tasks::{Task, schedule_recurring};
#[cfg(feature = "server")]
pub use worker::{Drained, drain, run_worker, spawn_workers};

/// A job as the admin page and `pannier jobs list` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDto {
    /// Its id (for retry and cancel).
    pub id: crate::ids::JobId,
    /// What it does: `previews`, `housekeeping`.
    pub kind: String,
    /// What it works on, as stored (JSON).
    pub payload: String,
    /// `queued`, `running` or `dead`.
    pub state: String,
    /// Attempts so far, and at most.
    pub attempts: i32,
    /// The most attempts before it is dead.
    pub max_attempts: i32,
    /// When it runs next (RFC 3339, UTC).
    pub run_after: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// For recurring jobs: every how many seconds.
    pub every_secs: Option<i64>,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    /// Waiting to run (now or later, including retries).
    pub queued: u64,
    /// Claimed by a worker.
    pub running: u64,
    /// Out of attempts.
    pub dead: u64,
}
