//! Signed content links for a separate user-content origin (`PANNIER_USER_CONTENT_URL`): the
//! app origin redirects a signed-in download to `<user content origin>/c/<token>`, where the
//! bytes are served without cookies. The token names the file, how to serve it and when it
//! expires, sealed with HMAC-SHA256 under a key every instance reads from the database.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use sha2::Sha256;
use uuid::Uuid;

use super::content::{Content, Download, ServeAs};
use crate::AppError;
use crate::entities::{files, settings};
use crate::state::AppState;

/// How long a signed content link works (long enough to watch a film with seeks).
const TTL_SECS: i64 = 4 * 3600;
/// Settings key of the link-signing key.
const KEY_SETTING: &str = "content_link_key";

/// The signed link for a file's bytes, when a user-content origin is configured.
pub async fn content_link(
    state: &AppState,
    file: &files::Model,
    serve_as: ServeAs,
) -> Result<Option<String>, AppError> {
    let Some(origin) = &state.config.user_content_url else { return Ok(None) };
    let expires = Utc::now().timestamp() + TTL_SECS;
    let mode = if serve_as == ServeAs::Download { 'd' } else { 'v' };
    let payload = format!("{}.{expires}.{mode}", file.id.simple());
    let signature = sign(&key(&state.db).await?, &payload)?;
    Ok(Some(format!("{origin}/c/{payload}.{}", URL_SAFE_NO_PAD.encode(signature))))
}

/// The content a signed token grants; tampered, malformed or expired tokens are 404.
pub async fn open_signed(state: &AppState, token: &str) -> Result<Content, AppError> {
    let gone = || AppError::NotFound("This link is not valid or has expired.".into());
    let (payload, signature) = token.rsplit_once('.').ok_or_else(gone)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| gone())?;
    let mut mac = mac(&key(&state.db).await?)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature).map_err(|_| gone())?;
    let mut parts = payload.split('.');
    let (Some(id), Some(expires), Some(mode), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(gone());
    };
    if expires.parse::<i64>().map_err(|_| gone())? < Utc::now().timestamp() {
        return Err(gone());
    }
    let id = Uuid::parse_str(id).map_err(|_| gone())?;
    let file = files::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(gone)?;
    let serve_as = if mode == "d" { ServeAs::Download } else { ServeAs::View };
    Download::of(&file, serve_as)?.into_content(state).await
}

/// HMAC-SHA256 of `payload` under the instance's link-signing key (share unlock cookies).
pub(crate) async fn seal(db: &impl ConnectionTrait, payload: &str) -> Result<Vec<u8>, AppError> {
    sign(&key(db).await?, payload)
}

/// Whether `signature` is the seal of `payload` (compared in constant time).
pub(crate) async fn is_sealed(
    db: &impl ConnectionTrait,
    payload: &str,
    signature: &[u8],
) -> Result<bool, AppError> {
    let mut mac = mac(&key(db).await?)?;
    mac.update(payload.as_bytes());
    Ok(mac.verify_slice(signature).is_ok())
}

fn mac(key: &[u8]) -> Result<Hmac<Sha256>, AppError> {
    Hmac::<Sha256>::new_from_slice(key).map_err(|_| AppError::Internal)
}

fn sign(key: &[u8], payload: &str) -> Result<Vec<u8>, AppError> {
    let mut mac = mac(key)?;
    mac.update(payload.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The instance's link-signing key, made on first use (every instance then reads the same one).
async fn key(db: &impl ConnectionTrait) -> Result<Vec<u8>, AppError> {
    if let Some(row) = settings::Entity::find_by_id(KEY_SETTING).one(db).await? {
        return URL_SAFE_NO_PAD.decode(row.value).map_err(|_| AppError::Internal);
    }
    let fresh =
        URL_SAFE_NO_PAD.encode([Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat());
    settings::Entity::insert(settings::ActiveModel {
        key: Set(KEY_SETTING.to_owned()),
        value: Set(fresh),
        updated_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([settings::Column::Key])
    .exec(db)
    .await?;
    // Whoever won the race, everyone uses the stored key.
    let row = settings::Entity::find_by_id(KEY_SETTING).one(db).await?.ok_or(AppError::Internal)?;
    URL_SAFE_NO_PAD.decode(row.value).map_err(|_| AppError::Internal)
}
