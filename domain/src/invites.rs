//! Invites: single-use, expiring links that let someone sign up on an invite-only instance.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use crate::AppError;
use crate::account::InviteDto;
use crate::audit::{self, Event, action};
use crate::auth::{ClientInfo, Identity, human_time, random_secret, sha256_hex};
use crate::entities::invites;

/// Creates an invite valid for `days`; returns the secret for the link (shown once).
pub async fn create(
    db: &impl ConnectionTrait,
    admin: &Identity,
    days: u32,
    client: &ClientInfo,
) -> Result<(String, InviteDto), AppError> {
    admin.require_admin()?;
    if !(1..=90).contains(&days) {
        return Err(AppError::invalid("days", "An invite is valid for 1 to 90 days."));
    }
    let secret = random_secret(24);
    let now = Utc::now();
    let invite = invites::ActiveModel {
        id: Set(Uuid::new_v4()),
        token_hash: Set(sha256_hex(&secret)),
        created_by: Set(Some(admin.user.id)),
        expires_at: Set(now + Duration::days(i64::from(days))),
        used_at: Set(None),
        used_by: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let event = Event {
        actor: Some(admin.user.id),
        action: action::INVITE_CREATED,
        target: None,
        success: true,
    };
    audit::record(db, event, client).await?;
    Ok((secret, dto(&invite)))
}

/// Whether invite `secret` exists, is unused and has not expired (a read; [`consume`] takes it).
pub async fn is_open(db: &impl ConnectionTrait, secret: &str) -> Result<bool, AppError> {
    if secret.trim().is_empty() {
        return Ok(false);
    }
    let open = invites::Entity::find()
        .filter(invites::Column::TokenHash.eq(sha256_hex(secret.trim())))
        .filter(invites::Column::UsedAt.is_null())
        .filter(invites::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    Ok(open.is_some())
}

/// The error for a sign-up without a usable invite `secret`.
pub fn unusable(secret: &str) -> AppError {
    let message = if secret.trim().is_empty() {
        "Sign-up needs an invite on this instance. Ask an admin for an invite link."
    } else {
        "This invite link has expired or was already used. Ask an admin for a new one."
    };
    AppError::invalid("invite", message)
}

/// Marks the invite used by `user_id`, atomically: two sign-ups cannot use one invite.
pub async fn consume(
    db: &impl ConnectionTrait,
    secret: &str,
    user_id: Uuid,
) -> Result<(), AppError> {
    let now = Utc::now();
    let result = invites::Entity::update_many()
        .col_expr(invites::Column::UsedAt, Expr::value(now))
        .col_expr(invites::Column::UsedBy, Expr::value(user_id))
        .filter(invites::Column::TokenHash.eq(sha256_hex(secret.trim())))
        .filter(invites::Column::UsedAt.is_null())
        .filter(invites::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if result.rows_affected == 1 { Ok(()) } else { Err(unusable(secret)) }
}

/// All invites, newest first.
pub async fn list(db: &impl ConnectionTrait, admin: &Identity) -> Result<Vec<InviteDto>, AppError> {
    admin.require_admin()?;
    let invites = invites::Entity::find().order_by_desc(invites::Column::CreatedAt).all(db).await?;
    Ok(invites.iter().map(dto).collect())
}

fn dto(invite: &invites::Model) -> InviteDto {
    InviteDto {
        id: invite.id.to_string(),
        expires: human_time(invite.expires_at),
        used: invite.used_at.is_some(),
    }
}
