//! The one policy every access to shared data goes through — the page, a file's bytes (preview
//! or download), the zip, an upload into a file request: [`authorize`]. Unknown and revoked
//! links are the same 404 (found by the slug's hash, one query either way); expired, used-up
//! or full links 410; a password link needs the unlock cookie of that one link; a download
//! takes one of the allowed downloads atomically; a file request shows nothing of its folder.
//!
//! What counts as a download: every response that sends a file's first byte — whatever the
//! query says (a preview is a download too) and however the `Range` is written (read by the
//! same [`Download::range_for`] that serves it). On a link with a download limit a later range
//! counts as well, unless the visitor holds the transfer cookie of a counted transfer of that
//! file (a video player's seeks). `HEAD` and an unsatisfiable range send no bytes and count
//! nothing; link-preview robots and prefetches never reach the bytes (the server sends them to
//! the page).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;

use super::contents::{SharedFile, shared_file, shared_files};
use super::links::state_of;
use super::page::file_count;
use super::{ShareSlug, ShareState};
use crate::auth::{ClientInfo, password, sha256_hex};
use crate::entities::{files, share_events, share_requests, shares, users};
use crate::files::{Download, RangeRequest, ServeAs, Unsatisfiable, is_sealed, seal};
use crate::limits::{Budget, address_key};
use crate::state::AppState;
use crate::{AppError, cache};

/// How long an unlocked link stays unlocked in one browser.
pub const UNLOCK_TTL_SECS: i64 = 3600;

/// What a visitor asks of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The page: the link's files.
    View,
    /// One file's bytes.
    File(FileRequest),
    /// Every file as one zip (counts one download).
    Zip,
    /// One file's thumbnail (never counts, never logged).
    Thumbnail(crate::ids::FileId),
    /// Search the link's files (never counts, never logged).
    Search,
    /// Send a file into a file request; `starting` a new upload (logged), else more bytes.
    Upload {
        /// A new upload rather than the next bytes of one.
        starting: bool,
    },
}

/// A request for one shared file's bytes, as it came. (Its `Debug` — in the policy's log span —
/// leaves the transfer cookie out: it is a credential.)
#[derive(Clone, PartialEq, Eq)]
pub struct FileRequest {
    /// The file's id.
    pub id: crate::ids::FileId,
    /// Shown in the page, or saved.
    pub serve_as: ServeAs,
    /// A `GET` (which sends bytes) rather than a `HEAD`.
    pub get: bool,
    /// Its `Range` headers.
    pub range: RangeRequest,
    /// The link's transfer cookie, if the visitor holds one.
    pub transfer: Option<String>,
}

impl std::fmt::Debug for FileRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileRequest")
            .field("id", &self.id)
            .field("serve_as", &self.serve_as)
            .field("get", &self.get)
            .field("range", &self.range)
            .field("transfer", &self.transfer.as_ref().map(|_| "…"))
            .finish()
    }
}

/// The cookie that marks a counted transfer of one file (a limited link's later ranges).
pub const TRANSFER_COOKIE: &str = "pannier_transfer";
/// How long a counted transfer's later ranges stay free.
pub const TRANSFER_TTL_SECS: i64 = 4 * 3600;

/// What the policy allows: the link and the files the action concerns.
#[derive(Debug)]
pub struct Grant {
    /// The link.
    pub share: shares::Model,
    /// The file asked for, or every file (the zip); none for the page (it reads a page at a
    /// time itself) or a file request.
    pub files: Vec<SharedFile>,
    /// A file request's rules and counts.
    pub request: Option<share_requests::Model>,
    /// A new transfer cookie's value, when this access counted a limited link's download.
    pub transfer: Option<String>,
}

/// The cookie that holds a link's unlock (scoped to `Path=/s/<slug>`).
pub const UNLOCK_COOKIE: &str = "pannier_unlock";

/// The value of cookie `name` among a request's `Cookie` headers.
pub fn link_cookie<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    headers
        .into_iter()
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

/// Decides `action` on link `slug` for a visitor holding `unlock` (the cookie's value).
#[tracing::instrument(skip_all, fields(action = ?action))]
pub async fn authorize(
    state: &AppState,
    slug: &str,
    unlock: Option<&str>,
    client: &ClientInfo,
    action: Action,
) -> Result<Grant, AppError> {
    let (share, request) = usable(state, slug).await?;
    if share.password_hash.is_some() && !unlocked(state, &share, unlock).await? {
        return Err(AppError::Unauthorized(
            "This link is protected by a password. Open it and type the password first.".into(),
        ));
    }
    let no_such_file = || AppError::NotFound("This link has no such file.".into());
    let (files, kind) = match (&action, &request) {
        // A file request shows visitors nothing of its folder.
        (Action::View, Some(_)) => (Vec::new(), Some("view")),
        (Action::Upload { starting }, Some(_)) => (Vec::new(), starting.then_some("upload")),
        (Action::File { .. } | Action::Zip | Action::Thumbnail(_), Some(_)) => {
            return Err(no_such_file());
        }
        (Action::Search, Some(_)) => {
            return Err(AppError::NotFound("This link takes files; it has none to search.".into()));
        }
        // The search reads its page of files itself, within the link.
        (Action::Search, None) => (Vec::new(), None),
        (Action::Upload { .. }, None) => {
            return Err(AppError::NotFound("This link does not take uploads.".into()));
        }
        // The page reads its files a page at a time itself.
        (Action::View, None) => (Vec::new(), Some("view")),
        (Action::File(ask), None) => {
            let file = shared_file(state, &share, ask.id).await?.ok_or_else(no_such_file)?;
            let counted = counts(state, &share, &file.model, ask).await?;
            let kind = match ask.serve_as {
                ServeAs::Download => "download",
                ServeAs::View => "preview",
            };
            (vec![file], counted.then_some(kind))
        }
        (Action::Thumbnail(id), None) => {
            (vec![shared_file(state, &share, *id).await?.ok_or_else(no_such_file)?], None)
        }
        (Action::Zip, None) if !share.allow_zip => {
            return Err(AppError::Forbidden(
                "The owner turned off zip downloads for this link; download the files one by one."
                    .into(),
            ));
        }
        (Action::Zip, None) => {
            let max = state.config.max_zip_files;
            if file_count(state, &share).await? > max {
                return Err(AppError::TooLarge(format!(
                    "This link shares more than {max} files, too many for one zip. Download \
                     them one by one."
                )));
            }
            (shared_files(state, &share).await?, Some("zip"))
        }
    };
    let mut transfer = None;
    if matches!(kind, Some("download" | "preview" | "zip")) {
        take_download(state, &share).await?;
        if let (Action::File(_), [file], Some(_)) = (&action, files.as_slice(), share.max_downloads)
        {
            transfer = Some(transfer_token(state, &share, &file.model).await?);
        }
    }
    if let Some(kind) = kind {
        record(state, &share, kind, client);
    }
    Ok(Grant { share, files, request, transfer })
}

/// Whether answering `ask` for `file` counts as a download (see the module's rule).
async fn counts(
    state: &AppState,
    share: &shares::Model,
    file: &files::Model,
    ask: &FileRequest,
) -> Result<bool, AppError> {
    if !ask.get {
        return Ok(false); // HEAD: no bytes
    }
    let later_range = match Download::of(file, ServeAs::View)?.range_for(&ask.range) {
        Err(Unsatisfiable) => return Ok(false), // 416: no bytes
        Ok(range) => range.is_some_and(|range| range.start > 0),
    };
    if !later_range {
        return Ok(true);
    }
    Ok(share.max_downloads.is_some() && !holds_transfer(state, share, file, ask).await?)
}

/// `<expires>.<seal>` of a counted transfer of `file` through `share`.
async fn transfer_token(
    state: &AppState,
    share: &shares::Model,
    file: &files::Model,
) -> Result<String, AppError> {
    sealed_cookie(state, TRANSFER_TTL_SECS, |expires| transfer_payload(share, file, expires)).await
}

async fn holds_transfer(
    state: &AppState,
    share: &shares::Model,
    file: &files::Model,
    ask: &FileRequest,
) -> Result<bool, AppError> {
    let payload = |expires| transfer_payload(share, file, expires);
    is_sealed_cookie(state, ask.transfer.as_deref(), payload).await
}

fn transfer_payload(share: &shares::Model, file: &files::Model, expires: i64) -> String {
    format!("transfer.{}.{}.{expires}", share.id.simple(), file.id.simple())
}

/// `<expires>.<seal>`: a cookie's value sealing `payload(expires)` for `ttl` seconds.
async fn sealed_cookie(
    state: &AppState,
    ttl: i64,
    payload: impl Fn(i64) -> String,
) -> Result<String, AppError> {
    let expires = Utc::now().timestamp() + ttl;
    let signature = seal(&state.db, &payload(expires)).await?;
    Ok(format!("{expires}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// Whether `cookie` is an unexpired [`sealed_cookie`] of `payload`.
async fn is_sealed_cookie(
    state: &AppState,
    cookie: Option<&str>,
    payload: impl Fn(i64) -> String,
) -> Result<bool, AppError> {
    let Some((expires, signature)) = cookie.and_then(|cookie| cookie.split_once('.')) else {
        return Ok(false);
    };
    let expires = expires.parse::<i64>().ok().filter(|at| *at >= Utc::now().timestamp());
    let (Some(expires), Ok(signature)) = (expires, URL_SAFE_NO_PAD.decode(signature)) else {
        return Ok(false);
    };
    is_sealed(&state.db, &payload(expires), &signature).await
}

/// Checks the password of link `slug`; the unlock cookie's value when right. Wrong passwords
/// are logged; every attempt takes one unit of the link-and-address unlock budget before the
/// password is checked (past it → 429).
pub async fn unlock(
    state: &AppState,
    slug: &str,
    password: SecretString,
    client: &ClientInfo,
) -> Result<String, AppError> {
    let (share, _) = usable(state, slug).await?;
    let Some(hash) = share.password_hash.clone() else {
        return token(state, &share).await; // nothing to unlock
    };
    // Counted before the password is checked (per link and address).
    let key = format!("{}/{}", share.id.simple(), address_key(client.ip.as_deref()));
    state.limits.take(Budget::Unlock, &key).await?;
    if !password::verify(password, Some(hash)).await? {
        record(state, &share, "unlock_failed", client);
        return Err(AppError::invalid("password", "That is not the password for this link."));
    }
    record(state, &share, "unlock", client);
    token(state, &share).await
}

/// The link (and its file request's rules, if it is one), if it can be used at all: 404
/// unknown or revoked, 410 expired, used up or full.
pub(super) async fn usable(
    state: &AppState,
    slug: &str,
) -> Result<(shares::Model, Option<share_requests::Model>), AppError> {
    // The same hash for any input, well-formed or not. (A cached link answers sooner than
    // an unknown one, but only to someone who already holds its unguessable slug.)
    let hash = ShareSlug::parse(slug).map_or_else(|| sha256_hex(slug), |slug| slug.hash());
    let unknown = || AppError::NotFound("This link does not exist or was turned off.".into());
    let epoch = cache::shares_epoch();
    // Read once for everyone asking at the same time (a crowd opening a new link).
    let load = async {
        let share = shares::Entity::find()
            .filter(shares::Column::SlugHash.eq(&hash))
            // The links of an account an admin turned off are unknown until it is on again.
            .filter(
                shares::Column::OwnerId.not_in_subquery(
                    Query::select()
                        .column(users::Column::Id)
                        .from(users::Entity)
                        .and_where(users::Column::DisabledAt.is_not_null())
                        .to_owned(),
                ),
            )
            .one(&state.db)
            .await?
            .ok_or_else(unknown)?;
        let request = share_requests::Entity::find_by_id(share.id).one(&state.db).await?;
        Ok((share, request))
    };
    let (share, request) = cache::link(hash.clone(), epoch, load).await?;
    // A limited link's or a file request's counters are its state: not kept past this read.
    if share.max_downloads.is_some() || request.is_some() {
        cache::forget_link(hash, epoch).await;
    }
    match (state_of(&share, request.as_ref()), &request) {
        (ShareState::Active, _) => Ok((share, request)),
        (ShareState::Revoked, _) => Err(unknown()),
        (ShareState::Expired, _) => Err(AppError::Gone("This link has expired.".into())),
        (ShareState::LimitReached, Some(_)) => {
            Err(AppError::Gone("This file request has received everything it asked for.".into()))
        }
        (ShareState::LimitReached, None) => Err(limit_reached()),
    }
}

fn limit_reached() -> AppError {
    AppError::Gone("This link has reached its download limit.".into())
}

/// Takes one download: of a limited link, if any is left — one conditional update before
/// any byte is sent, so two visitors can never both take the last one; of any other link,
/// [`record`] counts it with the next batch ([`super::access`]).
async fn take_download(state: &AppState, share: &shares::Model) -> Result<(), AppError> {
    if share.max_downloads.is_none() {
        return Ok(());
    }
    let taken =
        shares::Entity::update_many()
            .col_expr(shares::Column::Downloads, Expr::col(shares::Column::Downloads).add(1))
            .filter(shares::Column::Id.eq(share.id))
            .filter(shares::Column::MaxDownloads.is_null().or(
                Expr::col(shares::Column::Downloads).lt(Expr::col(shares::Column::MaxDownloads)),
            ))
            .exec(&state.db)
            .await?;
    if taken.rows_affected == 0 {
        return Err(limit_reached());
    }
    Ok(())
}

/// Logs an access and keeps the link's counters (a download of a link without a limit is
/// counted here), with the next batch ([`super::access`]). Repeats from one address are one
/// log entry (views within an hour, downloads within a minute); the counters count each.
fn record(state: &AppState, share: &shares::Model, kind: &str, client: &ClientInfo) {
    let download = matches!(kind, "download" | "preview" | "zip") && share.max_downloads.is_none();
    state.accesses.note(share.id, kind, client.ip.as_deref(), download);
}

/// Deletes access-log entries older than `PANNIER_SHARE_LOG_DAYS` (the hourly janitor); how
/// many went.
pub async fn prune_events(state: &AppState) -> Result<u64, AppError> {
    let cutoff = Utc::now() - TimeDelta::days(i64::from(state.config.share_log_days));
    let pruned = share_events::Entity::delete_many()
        .filter(share_events::Column::CreatedAt.lt(cutoff))
        .exec(&state.db)
        .await?;
    Ok(pruned.rows_affected)
}

/// `<expires>.<seal>`: unlocks this link until `expires`, while its password stays the same.
async fn token(state: &AppState, share: &shares::Model) -> Result<String, AppError> {
    sealed_cookie(state, UNLOCK_TTL_SECS, |expires| payload(share, expires)).await
}

async fn unlocked(
    state: &AppState,
    share: &shares::Model,
    cookie: Option<&str>,
) -> Result<bool, AppError> {
    is_sealed_cookie(state, cookie, |expires| payload(share, expires)).await
}

/// What an unlock cookie seals: the link, the expiry, and the password it was typed for.
fn payload(share: &shares::Model, expires: i64) -> String {
    format!("unlock.{}.{expires}.{}", share.id.simple(), password_version(share))
}

/// Which password a link has (empty for none): what is sealed with it stops working when the
/// password changes (unlock cookies, signed content links).
pub(crate) fn password_version(share: &shares::Model) -> String {
    share.password_hash.as_deref().map(sha256_hex).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_requests_log_form_leaves_the_transfer_cookie_out() {
        let ask = FileRequest {
            id: crate::ids::FileId::random(),
            serve_as: ServeAs::View,
            get: true,
            range: RangeRequest::default(),
            transfer: Some("1999999999.c2VjcmV0LXNlYWw".into()),
        };
        let logged = format!("{:?}", Action::File(ask));
        assert!(!logged.contains("c2VjcmV0LXNlYWw") && logged.contains("transfer"), "{logged}");
    }
}
