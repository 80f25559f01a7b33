//! The queue's statements: enqueue, claim (one statement on either database), renew a lease,
//! and end an attempt (done, failed, released).

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
    Set,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::tasks::Task;
use crate::AppError;
use crate::entities::jobs::{self, Column};

pub(super) const QUEUED: &str = "queued";
pub(super) const RUNNING: &str = "running";
pub(super) const DEAD: &str = "dead";

/// The first retry's delay; each further one doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// Wakes this process's idle workers (other instances find the job at their next poll).
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tells this process's idle workers that jobs were committed; call after the commit.
pub fn poke() {
    WAKE.notify_waiters();
}

/// Waits for [`poke`].
pub(super) async fn poked() {
    WAKE.notified().await;
}

/// Queues `task` to run now, inside the caller's transaction. A task with a unique key (one
/// file's previews, a recurring task) already queued or running is not queued twice.
pub async fn enqueue(db: &impl ConnectionTrait, task: &Task) -> Result<(), AppError> {
    let now = Utc::now();
    let row = jobs::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(task.kind().to_owned()),
        payload: Set(serde_json::to_string(task).map_err(|_| AppError::Internal)?),
        state: Set(QUEUED.to_owned()),
        attempts: Set(0),
        max_attempts: Set(task.max_attempts()),
        run_after: Set(now),
        lease_token: Set(None),
        lease_until: Set(None),
        every_secs: Set(task.every().map(|every| every.as_secs().cast_signed())),
        unique_key: Set(task.unique_key()),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    jobs::Entity::insert(row)
        .on_conflict(OnConflict::column(Column::UniqueKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Claims the job due first — queued and due, or running under a lease that ran out (its
/// worker died) — for `lease`, in one statement: `FOR UPDATE SKIP LOCKED` on PostgreSQL (two
/// workers never take the same row), and SQLite runs one writer at a time.
pub(super) async fn claim(
    db: &impl ConnectionTrait,
    lease: Duration,
) -> Result<Option<jobs::Model>, DbErr> {
    let now = Utc::now();
    let runnable = Condition::any()
        .add(Column::State.eq(QUEUED).and(Column::RunAfter.lte(now)))
        .add(Column::State.eq(RUNNING).and(Column::LeaseUntil.lt(now)));
    let first = Query::select()
        .column(Column::Id)
        .from(jobs::Entity)
        .cond_where(runnable.clone())
        .order_by(Column::RunAfter, Order::Asc)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let claimed = jobs::Entity::update_many()
        .col_expr(Column::State, Expr::value(RUNNING))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::LeaseToken, Expr::value(Uuid::new_v4()))
        .col_expr(Column::LeaseUntil, Expr::value(later(now, lease)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        // `id = (…)`, not `IN`: PostgreSQL may run an `IN` subquery once per row it checks,
        // each run skipping the rows locked by the previous ones — claiming many at once.
        .filter(Expr::col(Column::Id).eq(Expr::SubQuery(None, Box::new(first.into()))))
        .filter(runnable)
        .exec_with_returning(db)
        .await?;
    Ok(claimed.into_iter().next())
}

/// The earliest time a queued job is due, to sleep until then.
pub(super) async fn next_due(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    let first = jobs::Entity::find()
        .filter(Column::State.eq(QUEUED))
        .order_by(Column::RunAfter, Order::Asc)
        .one(db)
        .await?;
    Ok(first.map(|job| job.run_after))
}

/// The claimed job's row, while its lease is still ours (same token).
fn held(job: &jobs::Model) -> Condition {
    Condition::all().add(Column::Id.eq(job.id)).add(Column::LeaseToken.eq(job.lease_token))
}

/// Extends the lease of a job still running; `false` when it is no longer ours (cancelled, or
/// claimed again after our lease ran out).
pub(super) async fn renew(
    db: &impl ConnectionTrait,
    job: &jobs::Model,
    lease: Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let renewed = jobs::Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(later(now, lease)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(held(job))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// The attempt succeeded: the job is deleted, or, recurring, queued for its next run.
pub(super) async fn succeeded(db: &impl ConnectionTrait, job: &jobs::Model) -> Result<(), DbErr> {
    match job.every_secs {
        Some(every) => {
            let next = later(Utc::now(), period(every));
            requeue(db, job, next, 0, None).await
        }
        None => {
            jobs::Entity::delete_many().filter(held(job)).exec(db).await?;
            Ok(())
        }
    }
}

/// The attempt failed with `error`: retried after a backoff while attempts are left (and the
/// failure is worth retrying), else dead. A recurring job is never dead: it runs again after
/// the backoff or at its next run, whichever comes first.
pub(super) async fn failed(
    db: &impl ConnectionTrait,
    job: &jobs::Model,
    error: &str,
    retry: bool,
) -> Result<(), DbErr> {
    let error = Some(error.chars().take(2000).collect::<String>());
    let wait = backoff(job.attempts);
    if let Some(every) = job.every_secs {
        let wait = wait.min(period(every));
        return requeue(db, job, later(Utc::now(), wait), job.attempts, error).await;
    }
    if retry && job.attempts < job.max_attempts {
        return requeue(db, job, later(Utc::now(), wait), job.attempts, error).await;
    }
    let ended = Ended { state: DEAD, run_after: job.run_after, attempts: job.attempts, error };
    end(db, job, ended).await
}

/// The worker is stopping before the attempt ended: the job is queued again at once, the
/// attempt not counted.
pub(super) async fn released(db: &impl ConnectionTrait, job: &jobs::Model) -> Result<(), DbErr> {
    let attempts = std::cmp::max(job.attempts - 1, 0);
    requeue(db, job, Utc::now(), attempts, job.last_error.clone()).await
}

async fn requeue(
    db: &impl ConnectionTrait,
    job: &jobs::Model,
    run_after: DateTime<Utc>,
    attempts: i32,
    error: Option<String>,
) -> Result<(), DbErr> {
    end(db, job, Ended { state: QUEUED, run_after, attempts, error }).await
}

/// How an attempt leaves its job.
struct Ended {
    state: &'static str,
    run_after: DateTime<Utc>,
    attempts: i32,
    error: Option<String>,
}

/// Ends the attempt: the job's new state, its lease given up — if the lease is still ours.
async fn end(db: &impl ConnectionTrait, job: &jobs::Model, ended: Ended) -> Result<(), DbErr> {
    let Ended { state, run_after, attempts, error } = ended;
    jobs::Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::RunAfter, Expr::value(run_after))
        .col_expr(Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(error))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(held(job))
        .exec(db)
        .await?;
    Ok(())
}

/// The delay before retry `attempts` + 1: 10 s doubled per attempt, at most an hour, times a
/// random factor in [0.5, 1.5) so jobs that failed together do not retry together.
pub(super) fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let base = FIRST_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF);
    let jitter = f64::from(Uuid::new_v4().as_u128() as u16) / f64::from(u16::MAX); // 0..=1
    base.mul_f64(0.5 + jitter.min(0.999))
}

/// A recurring job's period (at least a second).
fn period(every_secs: i64) -> Duration {
    Duration::from_secs(std::cmp::max(every_secs, 1).cast_unsigned())
}

fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::backoff;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_an_hour() {
        for attempt in 1..=3 {
            let base = 10.0 * f64::from(1u32 << (attempt - 1));
            let wait = backoff(attempt).as_secs_f64();
            assert!((base * 0.5..base * 1.5).contains(&wait), "attempt {attempt}: {wait}");
        }
        assert!(backoff(40) < Duration::from_secs(5400));
        assert!(backoff(40) >= Duration::from_secs(1800));
        assert!(backoff(0) >= Duration::from_secs(5));
    }
}
