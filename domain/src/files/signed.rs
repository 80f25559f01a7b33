//! Signed content links for a separate user-content origin (`PANNIER_USER_CONTENT_URL`): the
//! app origin redirects a download (an account's, or a share visitor's) to
//! `<user content origin>/c/<token>`, where the bytes are served without cookies. The token
//! names the file, how to serve it and when it expires, sealed with HMAC-SHA256. A link made
//! for a share's visitor also names the share and the password it was issued under: each use
//! looks the share up again (one primary-key read) and stops working the moment the share is
//! revoked, expires or gets a new password; for a share with a download limit it lives only
//! [`LIMITED_TTL_SECS`], so a counted download cannot be passed around for hours.
//!
//! The signing keys live in the database, so every instance uses the same ones, and rotate:
//! the newest key signs; when it is a day old the janitor adds a new one, and the retired key
//! still verifies until every link it signed has expired, then it is dropped.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::content::{Content, Download, ServeAs};
use crate::AppError;
use crate::entities::{files, settings, shares};
use crate::shares::password_version;
use crate::state::AppState;

/// How long a signed content link works (long enough to watch a film with seeks). Nothing
/// signed with these keys lives longer.
const TTL_SECS: i64 = 4 * 3600;
/// How long a signed link made for a share with a download limit works.
const LIMITED_TTL_SECS: i64 = 600;
/// How long a key signs before a new one takes over.
const ROTATE_AFTER_SECS: i64 = 24 * 3600;
/// Settings key of the signing keys (JSON, newest first).
const KEYS_SETTING: &str = "link_signing_keys";
/// Where the one key of earlier versions was kept (taken over as the first key).
const OLD_KEY_SETTING: &str = "content_link_key";

/// One signing key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SigningKey {
    /// The key, URL-safe base64.
    key: String,
    /// Unix seconds it started signing.
    since: i64,
    /// Unix seconds it stopped signing (it still verifies for `TTL_SECS` after).
    retired: Option<i64>,
}

/// The signed link for a file's bytes, when a user-content origin is configured; `via` the
/// share a visitor reached it through (the link is bound to it).
pub async fn content_link(
    state: &AppState,
    file: &files::Model,
    serve_as: ServeAs,
    via: Option<&shares::Model>,
) -> Result<Option<String>, AppError> {
    let Some(origin) = &state.config.user_content_url else { return Ok(None) };
    let limited = via.is_some_and(|share| share.max_downloads.is_some());
    let expires = Utc::now().timestamp() + if limited { LIMITED_TTL_SECS } else { TTL_SECS };
    let mode = if serve_as == ServeAs::Download { 'd' } else { 'v' };
    let mut payload = format!("{}.{expires}.{mode}", file.id.simple());
    if let Some(share) = via {
        payload.push_str(&format!(".{}.{}", share.id.simple(), password_version(share)));
    }
    let signature = seal(&state.db, &payload).await?;
    Ok(Some(format!("{origin}/c/{payload}.{}", URL_SAFE_NO_PAD.encode(signature))))
}

/// The content a signed token grants; tampered, malformed or expired tokens are 404.
pub async fn open_signed(state: &AppState, token: &str) -> Result<Content, AppError> {
    let gone = || AppError::NotFound("This link is not valid or has expired.".into());
    let (payload, signature) = token.rsplit_once('.').ok_or_else(gone)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| gone())?;
    if !is_sealed(&state.db, payload, &signature).await? {
        return Err(gone());
    }
    let parts: Vec<&str> = payload.split('.').collect();
    let (id, expires, mode, via) = match parts.as_slice() {
        [id, expires, mode] => (id, expires, mode, None),
        [id, expires, mode, share, password] => (id, expires, mode, Some((share, password))),
        _ => return Err(gone()),
    };
    if expires.parse::<i64>().map_err(|_| gone())? < Utc::now().timestamp() {
        return Err(gone());
    }
    if let Some((share, password)) = via {
        let share = Uuid::parse_str(share).map_err(|_| gone())?;
        let share = shares::Entity::find_by_id(share).one(&state.db).await?.ok_or_else(gone)?;
        let now = Utc::now();
        if share.revoked_at.is_some()
            || share.expires_at.is_some_and(|at| at <= now)
            || password_version(&share) != *password
        {
            return Err(gone());
        }
    }
    let id = Uuid::parse_str(id).map_err(|_| gone())?;
    let file = files::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(gone)?;
    let serve_as = if *mode == "d" { ServeAs::Download } else { ServeAs::View };
    Download::of(&file, serve_as)?.into_content(state).await
}

/// HMAC-SHA256 of `payload` under the current signing key (content links, unlock cookies).
pub(crate) async fn seal(db: &impl ConnectionTrait, payload: &str) -> Result<Vec<u8>, AppError> {
    let keys = keys(db).await?;
    let current = keys.first().ok_or(AppError::Internal)?;
    let mut mac = mac(&decode(current)?)?;
    mac.update(payload.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Whether `signature` is the seal of `payload` under a key still in use (the current one or
/// one retired less than a link's lifetime ago); compared in constant time.
pub(crate) async fn is_sealed(
    db: &impl ConnectionTrait,
    payload: &str,
    signature: &[u8],
) -> Result<bool, AppError> {
    for key in keys(db).await? {
        let mut mac = mac(&decode(&key)?)?;
        mac.update(payload.as_bytes());
        if mac.verify_slice(signature).is_ok() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Starts signing with a new key when the current one is a day old (or at once with `force`),
/// and drops keys retired longer ago than any link lives. Whether a new key was made.
pub async fn rotate_signing_keys(db: &impl ConnectionTrait, force: bool) -> Result<bool, AppError> {
    let now = Utc::now().timestamp();
    let (stored, mut keys) = stored_keys(db).await?;
    let due = keys.first().is_none_or(|current| now - current.since >= ROTATE_AFTER_SECS);
    if let Some(current) = keys.first_mut().filter(|_| due || force) {
        current.retired = Some(now);
    }
    let rotated = due || force;
    if rotated {
        keys.insert(0, new_key(now));
    }
    keys.retain(|key| key.retired.is_none_or(|at| now - at <= TTL_SECS));
    let value = serde_json::to_string(&keys).map_err(|_| AppError::Internal)?;
    // Only if nobody changed them meanwhile (another instance's janitor): then theirs stands.
    let saved = settings::Entity::update_many()
        .col_expr(settings::Column::Value, Expr::value(value))
        .col_expr(settings::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(settings::Column::Key.eq(KEYS_SETTING))
        .filter(settings::Column::Value.eq(stored))
        .exec(db)
        .await?;
    Ok(rotated && saved.rows_affected == 1)
}

fn mac(key: &[u8]) -> Result<Hmac<Sha256>, AppError> {
    Hmac::<Sha256>::new_from_slice(key).map_err(|_| AppError::Internal)
}

fn decode(key: &SigningKey) -> Result<Vec<u8>, AppError> {
    URL_SAFE_NO_PAD.decode(&key.key).map_err(|_| AppError::Internal)
}

fn new_key(now: i64) -> SigningKey {
    let bytes = [Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat();
    SigningKey { key: URL_SAFE_NO_PAD.encode(bytes), since: now, retired: None }
}

/// The keys that still verify, current first.
async fn keys(db: &impl ConnectionTrait) -> Result<Vec<SigningKey>, AppError> {
    let now = Utc::now().timestamp();
    let (_, mut keys) = stored_keys(db).await?;
    keys.retain(|key| key.retired.is_none_or(|at| now - at <= TTL_SECS));
    Ok(keys)
}

/// The stored key set (as stored, and read), made on first use — from the one key of earlier
/// versions if there is one, so links signed before an upgrade keep working.
async fn stored_keys(db: &impl ConnectionTrait) -> Result<(String, Vec<SigningKey>), AppError> {
    if let Some(row) = settings::Entity::find_by_id(KEYS_SETTING).one(db).await? {
        let keys = serde_json::from_str(&row.value).map_err(|_| AppError::Internal)?;
        return Ok((row.value, keys));
    }
    let now = Utc::now().timestamp();
    let first = match settings::Entity::find_by_id(OLD_KEY_SETTING).one(db).await? {
        Some(old) => SigningKey { key: old.value, since: now, retired: None },
        None => new_key(now),
    };
    let value = serde_json::to_string(&[first]).map_err(|_| AppError::Internal)?;
    settings::Entity::insert(settings::ActiveModel {
        key: Set(KEYS_SETTING.to_owned()),
        value: Set(value),
        updated_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([settings::Column::Key])
    .exec(db)
    .await?;
    // Whoever won the race, everyone uses the stored keys.
    let row =
        settings::Entity::find_by_id(KEYS_SETTING).one(db).await?.ok_or(AppError::Internal)?;
    let keys = serde_json::from_str(&row.value).map_err(|_| AppError::Internal)?;
    Ok((row.value, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stores `keys` as they are (to age them).
    async fn store(db: &sea_orm::DatabaseConnection, keys: &[SigningKey]) {
        let value = serde_json::to_string(keys).unwrap();
        settings::Entity::update_many()
            .col_expr(settings::Column::Value, Expr::value(value))
            .filter(settings::Column::Key.eq(KEYS_SETTING))
            .exec(db)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn keys_rotate_without_breaking_links_younger_than_their_lifetime() {
        let db = crate::db::memory_db().await;
        let before = seal(&db, "payload").await.unwrap();
        assert!(is_sealed(&db, "payload", &before).await.unwrap());
        assert!(!is_sealed(&db, "other", &before).await.unwrap(), "bound to the payload");
        assert!(!rotate_signing_keys(&db, false).await.unwrap(), "a fresh key stays");

        assert!(rotate_signing_keys(&db, true).await.unwrap());
        let after = seal(&db, "payload").await.unwrap();
        assert_ne!(before, after, "the new key signs");
        assert!(is_sealed(&db, "payload", &before).await.unwrap(), "the old one still verifies");

        // The old key retired longer ago than any link lives: it no longer verifies, and the
        // next rotation drops it.
        let (_, mut keys) = stored_keys(&db).await.unwrap();
        keys[1].retired = Some(Utc::now().timestamp() - TTL_SECS - 1);
        store(&db, &keys).await;
        assert!(!is_sealed(&db, "payload", &before).await.unwrap());
        assert!(is_sealed(&db, "payload", &after).await.unwrap());
        rotate_signing_keys(&db, false).await.unwrap();
        assert_eq!(stored_keys(&db).await.unwrap().1.len(), 1);

        // A key a day old is replaced by the janitor's pass.
        let (_, mut keys) = stored_keys(&db).await.unwrap();
        keys[0].since -= ROTATE_AFTER_SECS;
        store(&db, &keys).await;
        assert!(rotate_signing_keys(&db, false).await.unwrap());
        assert!(is_sealed(&db, "payload", &after).await.unwrap());
    }
}
