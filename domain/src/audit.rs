//! The audit log: every authentication event, with who, what, from where and when.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};
use uuid::Uuid;

use crate::AppError;
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
    use sea_orm::QuerySelect;
    Ok(audit_events::Entity::find()
        .order_by_desc(audit_events::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}
