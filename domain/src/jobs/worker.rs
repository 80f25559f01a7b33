//! Workers: claim a job, run it while renewing its lease, record how it ended; sleep when
//! there is nothing to do. On stop, a running job gets until the grace period ends to finish,
//! then is released (queued again) for another worker.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use super::queue::{claim, failed, next_due, poked, released, renew, succeeded};
use super::tasks::{Failure, Task};
use crate::AppError;
use crate::entities::jobs;
use crate::state::AppState;

/// How long a claim lasts without renewal: a worker that died (`kill -9`) holds its job this
/// long at most. Renewed every third of it.
const LEASE: Duration = Duration::from_secs(30);
/// The longest an idle worker sleeps before looking again (jobs queued by another instance;
/// this process's own enqueues wake it at once).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// Starts `count` workers on `state`, each until `stop` turns `true` (or its sender is gone);
/// a job still running then has `grace` to finish before it is released.
pub fn spawn_workers(
    state: &AppState,
    count: usize,
    stop: &watch::Receiver<bool>,
    grace: Duration,
) -> tokio::task::JoinSet<()> {
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..count {
        workers.spawn(run_worker(state.clone(), stop.clone(), grace));
    }
    workers
}

/// Runs jobs until `stop` turns `true`; a job still running then has `grace` to finish before
/// it is released. Its statements are left out of the request statement counts.
pub async fn run_worker(state: AppState, mut stop: watch::Receiver<bool>, grace: Duration) {
    crate::db::uncounted(async {
        while !*stop.borrow() && stop.has_changed().is_ok() {
            match claim(&state.db, LEASE).await {
                Ok(Some(job)) => attempt(&state, job, Some((&mut stop, grace))).await,
                Ok(None) => idle(&state, &mut stop).await,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim a job");
                    sleep_unless_stopped(IDLE_POLL, &mut stop).await;
                }
            }
        }
    })
    .await;
}

/// Sleeps until the next queued job is due, a local enqueue, or [`IDLE_POLL`].
async fn idle(state: &AppState, stop: &mut watch::Receiver<bool>) {
    let wait = match next_due(&state.db).await {
        Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(IDLE_POLL),
        _ => IDLE_POLL,
    };
    tokio::select! {
        () = poked() => {}
        () = sleep_unless_stopped(wait, stop) => {}
    }
}

async fn sleep_unless_stopped(wait: Duration, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
}

/// One attempt at `job`: runs it, renewing the lease; records how it ended. With `stop`, a
/// stop gives it `grace` more, then it is released.
async fn attempt(
    state: &AppState,
    job: jobs::Model,
    stop: Option<(&mut watch::Receiver<bool>, Duration)>,
) {
    if job.attempts > job.max_attempts {
        // Claimed again after its lease ran out, as often as it may be tried: its worker died
        // each time (a crash, a kill, memory) — it is not tried again.
        let why = format!("its worker stopped while running it {} times", job.max_attempts);
        tracing::warn!(job = %job.id, kind = %job.kind, "{why}; the job is dead");
        record(failed(&state.db, &job, &why, false).await);
        return;
    }
    let task = match serde_json::from_str::<Task>(&job.payload) {
        Ok(task) => task,
        Err(err) => {
            let why = format!("cannot read the job ({err}); is it from a newer version?");
            record(failed(&state.db, &job, &why, false).await);
            return;
        }
    };
    run_leased(state, &job, task.run(state), stop).await;
}

/// Runs `work` for the claimed `job`, renewing its lease, and records how it ended: done,
/// failed, or — `stop` turned `true` and its grace ran out first — released.
async fn run_leased(
    state: &AppState,
    job: &jobs::Model,
    work: impl std::future::Future<Output = Result<(), Failure>>,
    mut stop: Option<(&mut watch::Receiver<bool>, Duration)>,
) {
    let started = std::time::Instant::now();
    tokio::pin!(work);
    let mut renewals = tokio::time::interval_at(tokio::time::Instant::now() + LEASE / 3, LEASE / 3);
    let mut deadline: Option<tokio::time::Instant> = None;
    let outcome = loop {
        let stopping = async {
            match stop.as_mut() {
                Some((stop, _)) if deadline.is_none() => {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                }
                _ => std::future::pending::<()>().await,
            }
        };
        let give_up = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            result = &mut work => break Some(result),
            _ = renewals.tick() => match renew(&state.db, job, LEASE).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(job = %job.id, "the job's lease was lost (cancelled, or taken over)"),
                Err(err) => tracing::warn!(job = %job.id, error = %err, "cannot renew the job's lease"),
            },
            () = stopping => {
                let grace = stop.as_ref().map_or(Duration::ZERO, |(_, grace)| *grace);
                deadline = Some(tokio::time::Instant::now() + grace);
            }
            () = give_up => break None,
        }
    };
    let took = started.elapsed();
    metrics::histogram!("pannier_job_duration_seconds", "kind" => task_kind(job))
        .record(took.as_secs_f64());
    match outcome {
        Some(Ok(())) => {
            tracing::debug!(job = %job.id, kind = %job.kind, ?took, "job done");
            record(succeeded(&state.db, job).await);
        }
        Some(Err(Failure { message, retry })) => {
            tracing::warn!(job = %job.id, kind = %job.kind, error = %message, retry, "job failed");
            metrics::counter!("pannier_job_failures_total", "kind" => task_kind(job)).increment(1);
            record(failed(&state.db, job, &message, retry).await);
        }
        None => {
            tracing::info!(job = %job.id, kind = %job.kind, "stopping: job released for another worker");
            record(released(&state.db, job).await);
        }
    }
}

/// The job's kind as a metrics label (a fixed set; anything else is `other`).
fn task_kind(job: &jobs::Model) -> &'static str {
    match job.kind.as_str() {
        "previews" => "previews",
        "extract_text" => "extract_text",
        "search_backfill" => "search_backfill",
        "housekeeping" => "housekeeping",
        _ => "other",
    }
}

fn record(ended: Result<(), sea_orm::DbErr>) {
    if let Err(err) = ended {
        // The lease runs out and the job is claimed again: it runs twice, which jobs allow.
        tracing::warn!(error = %err, "cannot record how a job ended");
    }
}

/// What [`drain`] did and left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Attempts run.
    pub ran: usize,
    /// Jobs left due now (or running) and dead ones.
    pub left: super::JobCounts,
}

/// Runs every job that is due until none is (tests, `pannier jobs run`); jobs due later (a
/// recurring job's next run, a retry's backoff) are left. Then counts what is left due and
/// dead: a drained queue has neither.
pub async fn drain(state: &AppState) -> Result<Drained, AppError> {
    let mut ran = 0;
    while let Some(job) = claim(&state.db, LEASE).await? {
        attempt(state, job, None).await;
        ran += 1;
    }
    let mut left = super::counts(&state.db).await?;
    left.queued = super::admin::due(&state.db).await?;
    Ok(Drained { ran, left })
}

#[cfg(test)]
mod tests {
    use sea_orm::EntityTrait;

    use super::*;
    use crate::testing::TestState;

    #[tokio::test]
    async fn on_stop_a_job_that_does_not_finish_in_its_grace_is_released() {
        let t = TestState::new().await;
        let task = Task::Previews { file: uuid::Uuid::new_v4() };
        super::super::enqueue(&t.state.db, &task).await.expect("queued");
        let job = claim(&t.state.db, LEASE).await.expect("claim").expect("a job");
        let (stop, mut stopped) = watch::channel(false);
        let grace = Duration::from_millis(200);
        let started = std::time::Instant::now();
        let never = std::future::pending::<Result<(), Failure>>();
        let stopping = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.send(true).expect("a worker listens");
        };
        tokio::join!(run_leased(&t.state, &job, never, Some((&mut stopped, grace))), stopping);
        assert!(started.elapsed() >= Duration::from_millis(250), "it had its grace");
        let row = jobs::Entity::find_by_id(job.id).one(&t.state.db).await.expect("row");
        let row = row.expect("kept");
        assert_eq!((row.state.as_str(), row.attempts), ("queued", 0), "released, not failed");
        assert!(row.run_after <= Utc::now(), "due at once for another worker");

        // A job that finishes within its grace is done.
        let job = claim(&t.state.db, LEASE).await.expect("claim").expect("again");
        let (stop, mut stopped) = watch::channel(false);
        stop.send(true).expect("a worker listens");
        let quick = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<(), Failure>(())
        };
        run_leased(&t.state, &job, quick, Some((&mut stopped, grace))).await;
        assert!(jobs::Entity::find_by_id(job.id).one(&t.state.db).await.expect("row").is_none());
    }

    #[tokio::test]
    async fn a_job_runs_once_and_is_gone() {
        let t = TestState::new().await;
        super::super::schedule_recurring(&t.state.db).await.expect("scheduled");
        super::super::schedule_recurring(&t.state.db).await.expect("scheduled twice: once");
        let drained = drain(&t.state).await.expect("drained");
        assert_eq!(drained.ran, 1);
        assert_eq!(drained.left, super::super::JobCounts::default());
        let rows = jobs::Entity::find().all(&t.state.db).await.expect("rows");
        assert_eq!(rows.len(), 1, "the recurring job stays for its next run");
        assert_eq!(rows[0].state, super::super::queue::QUEUED);
        assert!(rows[0].run_after > Utc::now() + chrono::Duration::minutes(59));
    }
}
