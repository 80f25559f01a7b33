//! Browser sessions: a tower-sessions store in the application database (SQLite or PostgreSQL),
//! signing in and out, resolving the signed-in account, and listing/revoking one's sessions.
//! The store is a plain `SessionStore`, so a Redis store can replace it for scale-out.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use tower_sessions::cookie::time::{Duration as CookieDuration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use crate::account::SessionDto;
use crate::audit::{self, action};
use crate::auth::{ClientInfo, Identity, human_time, sha256_hex};
use crate::config::Config;
use crate::entities::{sessions, users};
use crate::users as user_service;
use crate::{AppError, cache};

/// Session keys.
const USER_ID: &str = "user_id";
const AUTH_AT: &str = "auth_at";
const IP: &str = "ip";
const USER_AGENT: &str = "ua";
const REMEMBER: &str = "remember";
const SEEN_AT: &str = "seen_at";

/// How stale `last seen` may get before a request refreshes it (and the inactivity expiry).
const TOUCH_AFTER_SECS: i64 = 300;

/// Sessions stored in the `sessions` table.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    /// A store on `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_chrono(time: OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(time.unix_timestamp(), time.nanosecond()).unwrap_or_default()
}

impl DbSessionStore {
    fn row(record: &Record) -> session_store::Result<sessions::ActiveModel> {
        let text = |key: &str| record.data.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let now = Utc::now();
        Ok(sessions::ActiveModel {
            id: Set(record.id.to_string()),
            user_id: Set(text(USER_ID).and_then(|id| Uuid::parse_str(&id).ok())),
            data: Set(serde_json::to_string(&record.data)
                .map_err(|e| session_store::Error::Encode(e.to_string()))?),
            expires_at: Set(to_chrono(record.expiry_date)),
            created_at: Set(now),
            last_seen_at: Set(now),
            ip: Set(text(IP)),
            user_agent: Set(text(USER_AGENT)),
        })
    }
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    /// Inserts a new session; on the (astronomically unlikely) id collision, draws a new id.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let exists = sessions::Entity::find_by_id(record.id.to_string())
                .one(&self.db)
                .await
                .map_err(backend)?
                .is_some();
            if !exists {
                break;
            }
            record.id = Id::default();
        }
        let epoch = cache::auth_epoch_checked(&self.db).await.map_err(backend)?;
        sessions::Entity::insert(Self::row(record)?).exec(&self.db).await.map_err(backend)?;
        cache::keep_session(epoch, record.clone());
        Ok(())
    }

    /// Updates an existing session only: a session deleted meanwhile (signed out elsewhere)
    /// stays deleted instead of being written back by a request that was still running.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let epoch = cache::auth_epoch_checked(&self.db).await.map_err(backend)?;
        let mut row = Self::row(record)?;
        row.created_at = sea_orm::ActiveValue::NotSet;
        let updated = sessions::Entity::update_many()
            .set(row)
            .filter(sessions::Column::Id.eq(record.id.to_string()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        if updated.rows_affected == 1 {
            cache::keep_session(epoch, record.clone());
        } else {
            cache::forget_session(&record.id.to_string());
        }
        Ok(())
    }

    /// The session, from the cache while nothing retired it ([`cache`]).
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let epoch = cache::auth_epoch_checked(&self.db).await.map_err(backend)?;
        let key = id.to_string();
        if let Some(record) = cache::session(&key, epoch) {
            return Ok((record.expiry_date > OffsetDateTime::now_utc()).then_some(record));
        }
        let row = sessions::Entity::find_by_id(key)
            .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data: HashMap<String, serde_json::Value> = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp(row.expires_at.timestamp()).map_err(backend)?;
        let record = Record { id: *id, data, expiry_date };
        cache::keep_session(epoch, record.clone());
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::Entity::delete_by_id(id.to_string()).exec(&self.db).await.map_err(backend)?;
        cache::forget_session(&id.to_string());
        Ok(())
    }
}

fn session_error(err: impl std::error::Error + 'static) -> AppError {
    AppError::internal("session store", &err)
}

/// Signs `user` into `session`: a new session id (no fixation), who/when/where, and the
/// inactivity expiry ("remember me" keeps it for days instead of hours).
pub async fn sign_in(
    session: &Session,
    user: &users::Model,
    remember: bool,
    client: &ClientInfo,
    config: &Config,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session.insert(USER_ID, user.id.to_string()).await.map_err(session_error)?;
    session.insert(AUTH_AT, Utc::now().timestamp()).await.map_err(session_error)?;
    session.insert(IP, client.ip.clone()).await.map_err(session_error)?;
    session.insert(USER_AGENT, client.user_agent.clone()).await.map_err(session_error)?;
    session.insert(REMEMBER, remember).await.map_err(session_error)?;
    session.insert(SEEN_AT, Utc::now().timestamp()).await.map_err(session_error)?;
    session.set_expiry(Some(Expiry::OnInactivity(inactivity(remember, config))));
    Ok(())
}

fn inactivity(remember: bool, config: &Config) -> CookieDuration {
    if remember {
        CookieDuration::days(i64::from(config.session_remember_days))
    } else {
        CookieDuration::minutes(i64::from(config.session_idle_minutes))
    }
}

/// Keeps a live session alive: every few minutes (not on every request — each save is a
/// database write and a `Set-Cookie`), its own inactivity limit again and a fresh "last seen".
/// Only requests that change nothing (`GET`, `HEAD`) touch: a failed session save makes the
/// session layer answer 500, and an upload that was stored must never be answered that way.
async fn touch(session: &Session, config: &Config, safe_method: bool) -> Result<(), AppError> {
    let seen_at: i64 = session.get(SEEN_AT).await.map_err(session_error)?.unwrap_or_default();
    let now = Utc::now().timestamp();
    if !safe_method || now - seen_at < TOUCH_AFTER_SECS {
        return Ok(());
    }
    let remember: bool = session.get(REMEMBER).await.map_err(session_error)?.unwrap_or(false);
    session.set_expiry(Some(Expiry::OnInactivity(inactivity(remember, config))));
    session.insert(SEEN_AT, now).await.map_err(session_error)?;
    Ok(())
}

/// After the owner changed their password: every other session ends, this one gets a new id
/// and a new sign-in time (so the password check in [`identity`] keeps it valid).
pub async fn keep_only_current(
    db: &impl ConnectionTrait,
    session: &Session,
    user: &users::Model,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session.insert(AUTH_AT, Utc::now().timestamp()).await.map_err(session_error)?;
    session.save().await.map_err(session_error)?;
    revoke_all(db, user.id, session.id()).await?;
    Ok(())
}

/// Keeps `value` in the session until [`take_flash`] reads it once (a secret shown once, with
/// or without JavaScript).
pub async fn set_flash(session: &Session, key: &str, value: &str) -> Result<(), AppError> {
    session.insert(&format!("flash.{key}"), value).await.map_err(session_error)
}

/// Reads and forgets a value kept by [`set_flash`].
pub async fn take_flash(session: &Session, key: &str) -> Result<Option<String>, AppError> {
    session.remove(&format!("flash.{key}")).await.map_err(session_error)
}

/// Ends `session` (deletes it from the store and clears the cookie).
pub async fn sign_out(
    db: &impl ConnectionTrait,
    session: &Session,
    identity: Option<&Identity>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)?;
    if let Some(identity) = identity {
        let user = &identity.user;
        audit::own_account(db, user, action::SIGN_OUT, client).await?;
    }
    Ok(())
}

/// "Sign out everywhere": every session of the account ends (this one too) and the API tokens
/// `tokens` names are revoked, in one transaction; then `session` is cleared.
pub async fn sign_out_everywhere(
    db: &DatabaseConnection,
    session: &Session,
    identity: &Identity,
    tokens: crate::tokens::TokensToRevoke,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    revoke_all(&txn, identity.user.id, None).await?;
    crate::tokens::revoke_all(&txn, identity.user.id, tokens).await?;
    txn.commit().await?;
    cache::auth_committed();
    sign_out(db, session, Some(identity), client).await
}

/// The account signed into `session`, if it is still valid: the account exists, the absolute
/// lifetime has not passed, and the password has not changed since signing in. A request that
/// changes nothing (`safe_method`) may keep the session alive ([`touch`]).
pub async fn identity(
    db: &impl ConnectionTrait,
    session: &Session,
    config: &Config,
    safe_method: bool,
) -> Result<Option<Identity>, AppError> {
    let epoch = cache::auth_epoch_checked(db).await?;
    let user_id: Option<String> = session.get(USER_ID).await.map_err(session_error)?;
    let Some(user_id) = user_id.and_then(|id| Uuid::parse_str(&id).ok()) else {
        return Ok(None);
    };
    let auth_at: i64 = session.get(AUTH_AT).await.map_err(session_error)?.unwrap_or_default();
    let auth_at = DateTime::from_timestamp(auth_at, 0).unwrap_or_default();
    let absolute = chrono::Duration::days(i64::from(config.session_absolute_days));
    let user = user_service::signed_in(db, user_id, epoch).await?;
    let valid = user.filter(|u| {
        Utc::now() - auth_at < absolute && u.password_changed_at.timestamp() <= auth_at.timestamp()
    });
    match valid {
        Some(user) => {
            touch(session, config, safe_method).await?;
            Ok(Some(Identity { user, token_scope: None }))
        }
        None => {
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// The user's live sessions, most recently seen first; `current` marks the caller's.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    current: Option<Id>,
) -> Result<Vec<SessionDto>, AppError> {
    let current = current.map(|id| id.to_string());
    let rows = live_sessions(db, user_id).await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionDto {
            handle: handle(&row.id),
            device: device(row.user_agent.as_deref().unwrap_or_default()),
            ip: row.ip.clone().unwrap_or_else(|| "unknown".into()),
            last_seen: human_time(row.last_seen_at),
            current: current.as_deref() == Some(row.id.as_str()),
        })
        .collect())
}

async fn live_sessions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<sessions::Model>, AppError> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(sessions::Column::LastSeenAt)
        .all(db)
        .await?)
}

/// Signs out the user's session known by `handle`.
pub async fn revoke(
    db: &impl ConnectionTrait,
    user: &users::Model,
    handle_: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let rows = live_sessions(db, user.id).await?;
    let row = rows
        .into_iter()
        .find(|row| handle(&row.id) == handle_)
        .ok_or_else(|| AppError::NotFound("That session has already ended.".into()))?;
    sessions::Entity::delete_by_id(row.id).exec(db).await?;
    cache::auth_changed(db).await?;
    audit::own_account(db, user, action::SESSION_REVOKED, client).await
}

/// Signs out every session of `user_id`, except `keep` when given.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Option<Id>,
) -> Result<u64, AppError> {
    let mut delete = sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        delete = delete.filter(sessions::Column::Id.ne(keep.to_string()));
    }
    let revoked = delete.exec(db).await?.rows_affected;
    cache::auth_changed(db).await?;
    Ok(revoked)
}

/// Deletes expired sessions; returns how many.
pub async fn delete_expired(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    let result = sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Sessions that have not expired (signed-in browsers), for the metrics.
pub async fn count_live(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .count(db)
        .await?)
}

/// A public handle for a session id: revoking needs it, and it reveals nothing of the id.
fn handle(id: &str) -> String {
    sha256_hex(id).chars().take(16).collect()
}

/// "Firefox on Linux" from a user agent, or the raw agent's start when unrecognised.
pub fn device(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("Browser on {s}"),
        (None, None) if user_agent.is_empty() => "Unknown device".into(),
        (None, None) => user_agent.chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_from_user_agents() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device(firefox), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        assert_eq!(device(chrome), "Chrome on Windows");
        assert_eq!(device(""), "Unknown device");
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;

    #[tokio::test]
    async fn a_deleted_session_is_not_written_back_by_a_late_save() {
        let db = crate::db::memory_db().await;
        let store = DbSessionStore::new(db);
        let expiry_date = OffsetDateTime::now_utc() + CookieDuration::hours(1);
        let mut record = Record { id: Id::default(), data: HashMap::new(), expiry_date };
        store.create(&mut record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_some());

        store.delete(&record.id).await.unwrap();
        record.data.insert(SEEN_AT.into(), 1.into());
        store.save(&record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none(), "revoked stays revoked");
    }
}
