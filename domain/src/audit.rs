//! The audit log: every authentication and account event, with who, what, from where and
//! when; read a page at a time on the admin's audit page.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::AppError;
use crate::admin::{AUDIT_ACTIONS, AuditFilter, AuditPage, AuditRow};
use crate::auth::ClientInfo;
use crate::entities::{audit_events, users};

/// The actions written to the log.
pub mod action {
    /// A sign-in attempt (success or failure).
    pub const SIGN_IN: &str = "sign_in";
    /// A sign-out.
    pub const SIGN_OUT: &str = "sign_out";
    /// An account created by sign-up.
    pub const SIGN_UP: &str = "sign_up";
    /// An account created on the command line.
    pub const USER_CREATED: &str = "user_created";
    /// A password changed by its owner.
    pub const PASSWORD_CHANGED: &str = "password_changed";
    /// A password reset on the command line or through a reset link.
    pub const PASSWORD_RESET: &str = "password_reset";
    /// An API token created.
    pub const TOKEN_CREATED: &str = "token_created";
    /// An API token revoked.
    pub const TOKEN_REVOKED: &str = "token_revoked";
    /// One session signed out remotely, or all of them.
    pub const SESSION_REVOKED: &str = "session_revoked";
    /// An account deleted by its owner.
    pub const ACCOUNT_DELETED: &str = "account_deleted";
    /// An invite created.
    pub const INVITE_CREATED: &str = "invite_created";
    /// The registration mode changed.
    pub const REGISTRATION_MODE_CHANGED: &str = "registration_mode_changed";
    /// A role given to an account.
    pub const ROLE_CHANGED: &str = "role_changed";
    /// An account turned off by an admin.
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    /// An account turned on again by an admin.
    pub const ACCOUNT_ENABLED: &str = "account_enabled";
    /// An account's quota set by an admin.
    pub const QUOTA_SET: &str = "quota_set";
    /// A password reset link made by an admin.
    pub const RESET_LINK_CREATED: &str = "reset_link_created";
}

/// One event to record.
pub struct Event<'a> {
    /// Who acted, when known.
    pub actor: Option<Uuid>,
    /// One of [`action`].
    pub action: &'a str,
    /// What it acted on (an email, a token name, …).
    pub target: Option<&'a str>,
    /// Whether it succeeded.
    pub success: bool,
}

/// Writes `event` with the client's address and user agent.
#[tracing::instrument(skip_all, fields(action = event.action, success = event.success))]
pub async fn record(
    db: &impl ConnectionTrait,
    event: Event<'_>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    audit_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        actor_id: Set(event.actor),
        action: Set(event.action.to_owned()),
        target: Set(event.target.map(|t| t.chars().take(254).collect())),
        ip: Set(client.ip.clone()),
        user_agent: Set(client.user_agent.clone()),
        success: Set(event.success),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Records a successful `action` that `user` did on their own account.
pub async fn own_account(
    db: &impl ConnectionTrait,
    user: &users::Model,
    action: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let event = Event { actor: Some(user.id), action, target: Some(&user.email), success: true };
    record(db, event, client).await
}

/// The latest events, newest first (tests and, later, the admin audit page).
pub async fn latest(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<audit_events::Model>, AppError> {
    Ok(audit_events::Entity::find()
        .order_by_desc(audit_events::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Events on one page of the admin's audit log.
const PAGE: u64 = 50;

/// A page of the audit log as `filter` narrows it, newest first (admins only).
pub async fn list(
    db: &impl ConnectionTrait,
    admin: &crate::auth::Identity,
    filter: &AuditFilter,
) -> Result<AuditPage, AppError> {
    admin.require_admin()?;
    let mut find = audit_events::Entity::find()
        .order_by_desc(audit_events::Column::CreatedAt)
        .order_by_desc(audit_events::Column::Id)
        .limit(PAGE + 1);
    let action = filter.action.trim();
    if !action.is_empty() {
        if !AUDIT_ACTIONS.iter().any(|(code, _)| *code == action) {
            return Err(AppError::invalid(
                "action",
                format!("`{action}` is not an action the log records."),
            ));
        }
        find = find.filter(audit_events::Column::Action.eq(action));
    }
    let who = filter.who.trim().to_lowercase();
    if who.chars().count() > 200 {
        return Err(AppError::invalid(
            "who",
            "Search with at most 200 characters: part of an email.",
        ));
    }
    if !who.is_empty() {
        let pattern = LikeExpr::new(format!("%{}%", crate::db::escape_like(&who))).escape('\\');
        let actors = Query::select()
            .column(users::Column::Id)
            .from(users::Entity)
            .and_where(
                Expr::expr(Func::lower(Expr::col(users::Column::Email))).like(pattern.clone()),
            )
            .to_owned();
        find = find.filter(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(audit_events::Column::Target))).like(pattern))
                .add(audit_events::Column::ActorId.in_subquery(actors)),
        );
    }
    if filter.failed {
        find = find.filter(audit_events::Column::Success.eq(false));
    }
    if let Some(before) = filter.before.as_deref().filter(|b| !b.is_empty()) {
        let (at, id) = parse_cursor(before)?;
        find = find.filter(
            Condition::any().add(audit_events::Column::CreatedAt.lt(at)).add(
                Condition::all()
                    .add(audit_events::Column::CreatedAt.eq(at))
                    .add(audit_events::Column::Id.lt(id)),
            ),
        );
    }
    let mut events = find.all(db).await?;
    let next = (events.len() as u64 > PAGE).then(|| {
        events.truncate(PAGE as usize);
        events.last().map(|e| format!("{}_{}", e.created_at.to_rfc3339(), e.id))
    });
    let mut actor_ids: Vec<Uuid> = events.iter().filter_map(|e| e.actor_id).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let actors = if actor_ids.is_empty() {
        Vec::new()
    } else {
        users::Entity::find().filter(users::Column::Id.is_in(actor_ids)).all(db).await?
    };
    let rows = events
        .into_iter()
        .map(|e| AuditRow {
            at: e.created_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            actor: e
                .actor_id
                .and_then(|id| actors.iter().find(|u| u.id == id))
                .map(|u| u.email.clone()),
            action: e.action,
            target: e.target,
            ip: e.ip,
            user_agent: e.user_agent,
            success: e.success,
        })
        .collect();
    Ok(AuditPage { rows, next: next.flatten() })
}

/// A page cursor: `<RFC 3339 time>_<event id>`.
fn parse_cursor(cursor: &str) -> Result<(chrono::DateTime<Utc>, Uuid), AppError> {
    let bad = || {
        AppError::invalid(
            "before",
            "That page cursor is not one this log made; start from the first page.",
        )
    };
    let (at, id) = cursor.rsplit_once('_').ok_or_else(bad)?;
    let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc);
    Ok((at, Uuid::try_parse(id).map_err(|_| bad())?))
}
