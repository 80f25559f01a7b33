//! The write lease: one request at a time writes an upload, whichever instance it reaches. The
//! lease lives in the upload's row, is extended while bytes flow, and lapses on its own when the
//! instance holding it dies; progress is recorded under it.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::record::{Part, expiry, to_i64};
use crate::AppError;
use crate::entities::uploads;
use crate::state::AppState;

/// How long a request may hold an upload without showing progress before another may take it
/// (how long a client waits after the instance writing its upload died).
const LEASE: TimeDelta = TimeDelta::seconds(20);
/// How often a writing request extends its lease (well inside [`LEASE`]).
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The right to write one upload for a while, held by one request.
pub(super) struct Lease {
    id: Uuid,
    token: Uuid,
    renewed: Instant,
    /// A file request's visitor's upload (a shorter idle expiry).
    visitor: bool,
}

impl Lease {
    /// Takes the lease if nobody holds it (or their hold lapsed) and the upload is still at
    /// the offset we read; otherwise 409, and the client asks again.
    pub async fn claim(state: &AppState, upload: &uploads::Model) -> Result<Self, AppError> {
        let token = Uuid::new_v4();
        let now = Utc::now();
        let claimed = uploads::Entity::update_many()
            .col_expr(uploads::Column::LeaseToken, Expr::value(Some(token)))
            .col_expr(uploads::Column::LeaseUntil, Expr::value(Some(now + LEASE)))
            .col_expr(
                uploads::Column::ExpiresAt,
                Expr::value(now + expiry(state, upload.share_id.is_some())),
            )
            .filter(uploads::Column::Id.eq(upload.id))
            .filter(uploads::Column::Received.eq(upload.received))
            .filter(uploads::Column::LeaseUntil.is_null().or(uploads::Column::LeaseUntil.lt(now)))
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 0 {
            return Err(AppError::Conflict(
                "Another request is writing to this upload right now. Ask for its offset \
                 (HEAD) and try again in a moment."
                    .into(),
            ));
        }
        Ok(Self {
            id: upload.id,
            token,
            renewed: Instant::now(),
            visitor: upload.share_id.is_some(),
        })
    }

    /// Extends the lease while a long write goes on; call it before writing. A request whose
    /// client stalled past the lease may have lost it to another: then it must stop (409)
    /// before it writes anything more.
    pub async fn renew_if_due(&mut self, db: &impl ConnectionTrait) -> Result<(), AppError> {
        if self.renewed.elapsed() < RENEW_EVERY {
            return Ok(());
        }
        self.renew(db).await
    }

    /// Extends the lease now.
    pub async fn renew(&mut self, db: &impl ConnectionTrait) -> Result<(), AppError> {
        self.renewed = Instant::now();
        let renewed = uploads::Entity::update_many()
            .col_expr(uploads::Column::LeaseUntil, Expr::value(Some(Utc::now() + LEASE)))
            .filter(uploads::Column::Id.eq(self.id))
            .filter(uploads::Column::LeaseToken.eq(self.token))
            .exec(db)
            .await?;
        if renewed.rows_affected == 0 {
            return Err(AppError::Conflict(
                "Another request took over this upload. Ask for its offset (HEAD) and continue \
                 from there."
                    .into(),
            ));
        }
        Ok(())
    }

    /// Records progress and lets go of the lease, unless someone else took it meanwhile.
    pub async fn checkpoint(
        self,
        state: &AppState,
        progress: &Checkpoint,
    ) -> Result<bool, AppError> {
        let parts = serde_json::to_string(&progress.parts).map_err(|_| AppError::Internal)?;
        let updated = uploads::Entity::update_many()
            .col_expr(uploads::Column::Received, Expr::value(to_i64(progress.received)?))
            .col_expr(uploads::Column::HashState, Expr::value(Some(progress.hash_state.clone())))
            .col_expr(uploads::Column::Parts, Expr::value(parts))
            .col_expr(uploads::Column::TailKey, Expr::value(progress.tail_key.clone()))
            .col_expr(
                uploads::Column::ExpiresAt,
                Expr::value(Utc::now() + expiry(state, self.visitor)),
            )
            .col_expr(uploads::Column::LeaseToken, Expr::value(None::<Uuid>))
            .col_expr(uploads::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
            .filter(uploads::Column::Id.eq(self.id))
            .filter(uploads::Column::LeaseToken.eq(self.token))
            .exec(&state.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Lets go without recording anything (the write was refused).
    pub async fn release(self, db: &impl ConnectionTrait) {
        let released = uploads::Entity::update_many()
            .col_expr(uploads::Column::LeaseToken, Expr::value(None::<Uuid>))
            .col_expr(uploads::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
            .filter(uploads::Column::Id.eq(self.id))
            .filter(uploads::Column::LeaseToken.eq(self.token))
            .exec(db)
            .await;
        if let Err(err) = released {
            tracing::warn!(error = %err, "could not release an upload lease");
        }
    }
}

/// Progress to record after a write.
pub(super) struct Checkpoint {
    pub received: u64,
    pub hash_state: String,
    pub parts: Vec<Part>,
    pub tail_key: Option<String>,
}
