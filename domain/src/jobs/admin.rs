//! What an admin sees and does with jobs (the admin page, `pannier jobs …`): counts by state,
//! the list, retry a dead job, cancel a job that is not running.

use chrono::{SecondsFormat, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::queue::{DEAD, QUEUED, RUNNING};
use super::{JobCounts, JobDto};
use crate::AppError;
use crate::entities::jobs::{self, Column};
use crate::ids::JobId;

/// How many jobs are queued, running and dead.
pub async fn counts(db: &impl ConnectionTrait) -> Result<JobCounts, AppError> {
    let count =
        |state: &'static str| jobs::Entity::find().filter(Column::State.eq(state)).count(db);
    Ok(JobCounts {
        queued: count(QUEUED).await?,
        running: count(RUNNING).await?,
        dead: count(DEAD).await?,
    })
}

/// How many queued jobs are due now.
pub(super) async fn due(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    let due = jobs::Entity::find()
        .filter(Column::State.eq(QUEUED))
        .filter(Column::RunAfter.lte(Utc::now()))
        .count(db)
        .await?;
    Ok(due)
}

/// Jobs in `state` (all when `None`), dead and failing ones first, then by when they run;
/// at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    state: Option<&str>,
    limit: u64,
) -> Result<Vec<JobDto>, AppError> {
    let mut query = jobs::Entity::find();
    if let Some(state) = state {
        if ![QUEUED, RUNNING, DEAD].contains(&state) {
            return Err(AppError::invalid("state", "A job's state is queued, running or dead."));
        }
        query = query.filter(Column::State.eq(state));
    }
    let rows = query
        .order_by_asc(Expr::cust(format!("CASE state WHEN '{DEAD}' THEN 0 ELSE 1 END")))
        .order_by_asc(Column::RunAfter)
        .limit(limit.min(1000))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(dto).collect())
}

fn dto(job: jobs::Model) -> JobDto {
    JobDto {
        id: job.id.into(),
        kind: job.kind,
        payload: job.payload,
        state: job.state,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        run_after: job.run_after.to_rfc3339_opts(SecondsFormat::Secs, true),
        last_error: job.last_error,
        every_secs: job.every_secs,
    }
}

/// Queues a dead (or waiting) job to run now with its attempts reset.
pub async fn retry(db: &impl ConnectionTrait, id: JobId) -> Result<(), AppError> {
    let job = find(db, id).await?;
    if job.state == RUNNING {
        return Err(AppError::Conflict("This job is running now.".into()));
    }
    jobs::Entity::update_many()
        .col_expr(Column::State, Expr::value(QUEUED))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::RunAfter, Expr::value(Utc::now()))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.uuid()))
        .filter(Column::State.ne(RUNNING))
        .exec(db)
        .await?;
    super::poke();
    Ok(())
}

/// Deletes a job that is not running (a recurring one comes back when an instance starts).
pub async fn cancel(db: &impl ConnectionTrait, id: JobId) -> Result<(), AppError> {
    let job = find(db, id).await?;
    if job.state == RUNNING {
        return Err(AppError::Conflict(
            "This job is running now; cancel it once it has finished or failed.".into(),
        ));
    }
    let deleted = jobs::Entity::delete_many()
        .filter(Column::Id.eq(id.uuid()))
        .filter(Column::State.ne(RUNNING))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::Conflict("This job started running meanwhile.".into()));
    }
    Ok(())
}

async fn find(db: &impl ConnectionTrait, id: JobId) -> Result<jobs::Model, AppError> {
    jobs::Entity::find_by_id(id.uuid())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("No such job (it may have finished).".into()))
}
