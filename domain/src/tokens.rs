//! API tokens: `pnr_…` bearer secrets, shown once, stored as SHA-256, scoped read or write.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use crate::account::{CreatedToken, TokenDto, TokenScope};
use crate::audit::{self, Event, action};
use crate::auth::{ClientInfo, Identity, human_time, random_secret, sha256_hex};
use crate::entities::{api_tokens, users};
use crate::ids::TokenId;
use crate::{AppError, cache};

/// Every token starts with this, so leaked tokens are easy to recognise and scan for.
pub const PREFIX: &str = "pnr_";

/// Creates a token for `user`; the returned secret is never stored and never shown again.
#[tracing::instrument(skip_all, fields(user = %user.id, scope = scope.as_str()))]
pub async fn create(
    db: &impl ConnectionTrait,
    user: &users::Model,
    name: &str,
    scope: TokenScope,
    expires_days: Option<u32>,
    client: &ClientInfo,
) -> Result<CreatedToken, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "Name the token (1 to 100 characters), e.g. \"backup script\".",
        ));
    }
    if expires_days.is_some_and(|d| d == 0 || d > 3650) {
        return Err(AppError::invalid(
            "expires_days",
            "A token expires after 1 to 3650 days, or never.",
        ));
    }
    let secret = format!("{PREFIX}{}", random_secret(32));
    let now = Utc::now();
    let token = api_tokens::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        name: Set(name.to_owned()),
        prefix: Set(secret.chars().take(12).collect()),
        token_hash: Set(sha256_hex(&secret)),
        scope: Set(scope.as_str().to_owned()),
        expires_at: Set(expires_days.map(|d| now + Duration::days(i64::from(d)))),
        last_used_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let event = Event {
        actor: Some(user.id),
        action: action::TOKEN_CREATED,
        target: Some(name),
        success: true,
    };
    audit::record(db, event, client).await?;
    Ok(CreatedToken { secret, token: dto(&token) })
}

/// Resolves a bearer secret to its account, or `Unauthorized` (unknown, revoked or expired).
/// Asks the database nothing while the token and its account are cached ([`cache`]).
pub async fn authenticate(db: &impl ConnectionTrait, secret: &str) -> Result<Identity, AppError> {
    let invalid =
        || AppError::Unauthorized("This API token is invalid, expired or revoked.".into());
    if !secret.starts_with(PREFIX) || secret.len() > 200 {
        return Err(invalid());
    }
    let hash = sha256_hex(secret);
    let epoch = cache::auth_epoch_checked(db).await?;
    let read = async {
        let row = api_tokens::Entity::find()
            .filter(api_tokens::Column::TokenHash.eq(&hash))
            .one(db)
            .await?
            .ok_or_else(invalid)?;
        Ok(cache::TokenEntry {
            id: row.id,
            user_id: row.user_id,
            scope: row.scope,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        })
    };
    let mut token = cache::token(hash.clone(), epoch, read).await?;
    let now = Utc::now();
    if token.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    let user = crate::users::signed_in(db, token.user_id, epoch).await?.ok_or_else(invalid)?;
    // "Last used" is shown to the minute: one write a minute per token is enough, instead of
    // one per API request.
    if token.last_used_at.is_none_or(|at| now - at >= Duration::minutes(1)) {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(db)
            .await?;
        token.last_used_at = Some(now);
        cache::keep_token(hash, epoch, token.clone()).await;
    }
    let scope = TokenScope::parse(&token.scope).unwrap_or(TokenScope::Read);
    Ok(Identity { user, token_scope: Some(scope) })
}

/// Which of an account's API tokens end with its sessions (a password change, "sign out
/// everywhere"). Default: the write tokens — whoever took over the account may have made one;
/// read-only tokens (a backup script's) keep working unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokensToRevoke {
    /// None.
    Keep,
    /// The write tokens.
    #[default]
    Write,
    /// Every token.
    All,
}

impl TokensToRevoke {
    /// `keep`, `write` or `all`; nothing sent means the default.
    pub fn parse(raw: Option<&str>) -> Result<Self, AppError> {
        match raw.map(str::trim).unwrap_or_default() {
            "" | "write" => Ok(Self::Write),
            "keep" => Ok(Self::Keep),
            "all" => Ok(Self::All),
            _ => Err(AppError::invalid("tokens", "Choose keep, write or all.")),
        }
    }
}

/// Revokes `which` of the user's tokens; how many.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    which: TokensToRevoke,
) -> Result<u64, AppError> {
    let mut delete =
        api_tokens::Entity::delete_many().filter(api_tokens::Column::UserId.eq(user_id));
    match which {
        TokensToRevoke::Keep => return Ok(0),
        TokensToRevoke::Write => {
            delete = delete.filter(api_tokens::Column::Scope.eq(TokenScope::Write.as_str()));
        }
        TokensToRevoke::All => {}
    }
    let revoked = delete.exec(db).await?.rows_affected;
    cache::auth_changed(db).await?;
    Ok(revoked)
}

/// The user's tokens, newest first.
pub async fn list(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<TokenDto>, AppError> {
    let tokens = api_tokens::Entity::find()
        .filter(api_tokens::Column::UserId.eq(user_id))
        .order_by_desc(api_tokens::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(tokens.iter().map(dto).collect())
}

/// Revokes one of the user's tokens; it stops working at once.
pub async fn revoke(
    db: &impl ConnectionTrait,
    user: &users::Model,
    id: TokenId,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let not_found =
        || AppError::NotFound("No such token; it may have been revoked already.".into());
    let token = api_tokens::Entity::find_by_id(id.uuid())
        .filter(api_tokens::Column::UserId.eq(user.id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    api_tokens::Entity::delete_by_id(token.id).exec(db).await?;
    cache::auth_changed(db).await?;
    let event = Event {
        actor: Some(user.id),
        action: action::TOKEN_REVOKED,
        target: Some(&token.name),
        success: true,
    };
    audit::record(db, event, client).await
}

fn dto(token: &api_tokens::Model) -> TokenDto {
    TokenDto {
        id: token.id.into(),
        name: token.name.clone(),
        prefix: token.prefix.clone(),
        scope: TokenScope::parse(&token.scope).unwrap_or(TokenScope::Read),
        created: human_time(token.created_at),
        last_used: token.last_used_at.map(human_time),
        expires: token.expires_at.map(human_time),
    }
}
