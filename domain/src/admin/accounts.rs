//! The services behind the admin's accounts page. Every one checks that the caller is an admin;
//! every change is audited and retires what the caches hold of accounts (and, turning an
//! account off, of its links).
//!
//! A change to an account's standing (role, turned off, deleted) starts its transaction with
//! the auth mark's write ([`cache::auth_changed`]): the database lets one such transaction on
//! at a time (PostgreSQL holds the row's lock until the commit; SQLite has one writer), so each
//! one sees what the one before it left. Inside, the acting admin is read again: two admins
//! demoting each other at the same moment leave one admin, not none.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, FromQueryResult, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::{AccountRow, AccountsPage};
use crate::account::Role;
use crate::audit::{self, Event, action};
use crate::auth::{ClientInfo, Identity, random_secret, sha256_hex};
use crate::db::escape_like;
use crate::entities::{files, password_resets, users};
use crate::files::QuotaSetting;
use crate::ids::UserId;
use crate::state::AppState;
use crate::{AppError, cache};

/// Accounts on one page of the list.
const PAGE: u64 = 50;
/// The longest search of the list.
const LONGEST_QUERY: usize = 200;
/// How long a password reset link works.
pub const RESET_LINK_HOURS: i64 = 24;

/// The accounts whose email or name holds `query` (any case), by email, from after `after`;
/// with the storage each uses and the instance's totals.
pub async fn list(
    state: &AppState,
    admin: &Identity,
    query: &str,
    after: Option<&str>,
) -> Result<AccountsPage, AppError> {
    admin.require_admin()?;
    let query = query.trim().to_lowercase();
    if query.chars().count() > LONGEST_QUERY {
        return Err(AppError::invalid(
            "q",
            format!("Search with at most {LONGEST_QUERY} characters: part of an email or a name."),
        ));
    }
    let db = &state.db;
    let mut find = users::Entity::find().order_by_asc(users::Column::Email).limit(PAGE + 1);
    if !query.is_empty() {
        let pattern = format!("%{}%", escape_like(&query));
        let holds = |column: users::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        find = find.filter(
            Condition::any()
                .add(holds(users::Column::Email))
                .add(holds(users::Column::DisplayName)),
        );
    }
    if let Some(after) = after.filter(|after| !after.is_empty()) {
        find = find.filter(users::Column::Email.gt(after));
    }
    let mut found = find.all(db).await?;
    let next = (found.len() as u64 > PAGE).then(|| {
        found.truncate(PAGE as usize);
        found.last().map(|user| user.email.clone())
    });
    let usage = usage_of(db, found.iter().map(|user| user.id).collect()).await?;
    let (total_used, total_files) = total_usage(db).await?;
    let rows = found
        .into_iter()
        .map(|user| {
            let used = usage.iter().find(|u| u.owner_id == user.id);
            row(state, admin, user, used)
        })
        .collect();
    Ok(AccountsPage {
        rows,
        next: next.flatten(),
        total_accounts: users::Entity::find().count(db).await?,
        total_used,
        total_files,
        default_quota: state.config.default_quota.limit(),
    })
}

/// Gives account `id` the role `role`. An admin cannot take their own admin role (so one
/// always remains).
pub async fn set_role(
    db: &DatabaseConnection,
    admin: &Identity,
    id: UserId,
    role: Role,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let txn = standing_change(db, admin).await?;
    let user = account(&txn, id).await?;
    if user.id == admin.user.id && role != Role::Admin {
        return Err(AppError::Conflict(
            "You cannot take your own admin role. Another admin can.".into(),
        ));
    }
    let target = format!("{} → {}", user.email, role.as_str());
    let mut user = user.into_active_model();
    user.role = Set(role.as_str().to_owned());
    user.update(&txn).await?;
    record(&txn, admin, action::ROLE_CHANGED, &target, client).await?;
    commit(txn).await
}

/// Turns account `id` off (`disabled`) or on again. Off, it cannot sign in, its sessions end,
/// its API tokens and links stop working (kept for when it is turned on again).
pub async fn set_disabled(
    db: &DatabaseConnection,
    admin: &Identity,
    id: UserId,
    disabled: bool,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let txn = standing_change(db, admin).await?;
    let user = account(&txn, id).await?;
    if user.id == admin.user.id {
        return Err(AppError::Conflict("You cannot turn off your own account.".into()));
    }
    let (user_id, email) = (user.id, user.email.clone());
    let mut user = user.into_active_model();
    user.disabled_at = Set(disabled.then(Utc::now));
    user.update(&txn).await?;
    if disabled {
        crate::sessions::revoke_all(&txn, user_id, None).await?;
    }
    let what = if disabled { action::ACCOUNT_DISABLED } else { action::ACCOUNT_ENABLED };
    record(&txn, admin, what, &email, client).await?;
    commit(txn).await?;
    cache::shares_changed();
    Ok(())
}

/// Sets account `id`'s quota (`default`, `unlimited` or a size such as `20GiB`). Files already
/// stored stay; new uploads must fit.
pub async fn set_quota(
    db: &impl ConnectionTrait,
    admin: &Identity,
    id: UserId,
    quota: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    admin.require_admin()?;
    let setting = QuotaSetting::parse(quota)?;
    let user = account(db, id).await?;
    crate::files::set_quota(db, &user, setting).await?;
    let target = format!("{} → {}", user.email, setting_text(&setting));
    record(db, admin, action::QUOTA_SET, &target, client).await
}

/// Deletes account `id` and everything it owns, once `confirm` is its email.
pub async fn delete(
    state: &AppState,
    admin: &Identity,
    id: UserId,
    confirm: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    admin.require_admin()?;
    let user = account(&state.db, id).await?;
    if user.id == admin.user.id {
        return Err(AppError::Conflict(
            "Delete your own account on your account page, with your password.".into(),
        ));
    }
    if !confirm.trim().eq_ignore_ascii_case(&user.email) {
        return Err(AppError::invalid(
            "confirm",
            format!("Type the account's email, {}, to delete it.", user.email),
        ));
    }
    let event = Event {
        actor: Some(admin.user.id),
        action: action::ACCOUNT_DELETED,
        target: Some(&user.email),
        success: true,
    };
    crate::users::erase(state, &user, event, Some(admin), client).await
}

/// Makes a one-time link for account `id` to set a new password, valid
/// [`RESET_LINK_HOURS`]; any earlier link of the account stops working. Returns its secret
/// (shown once) and the account's email.
pub async fn reset_link(
    db: &DatabaseConnection,
    admin: &Identity,
    id: UserId,
    client: &ClientInfo,
) -> Result<(String, String), AppError> {
    admin.require_admin()?;
    let txn = db.begin().await?;
    let user = account(&txn, id).await?;
    password_resets::Entity::delete_many()
        .filter(password_resets::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let secret = random_secret(24);
    let now = Utc::now();
    password_resets::ActiveModel {
        token_hash: Set(sha256_hex(&secret)),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(RESET_LINK_HOURS)),
    }
    .insert(&txn)
    .await?;
    record(&txn, admin, action::RESET_LINK_CREATED, &user.email, client).await?;
    txn.commit().await?;
    Ok((secret, user.email))
}

/// Opens a transaction for a change to who may do what, after the write that puts such
/// changes in a row, with the acting admin read again inside it.
async fn standing_change(
    db: &DatabaseConnection,
    admin: &Identity,
) -> Result<sea_orm::DatabaseTransaction, AppError> {
    admin.require_admin()?;
    let txn = db.begin().await?;
    cache::auth_changed(&txn).await?;
    still_admin(&txn, admin).await?;
    Ok(txn)
}

/// Fails unless `admin` is, as `db` (a transaction of a standing change) now reads it, an
/// admin whose account is on.
pub(crate) async fn still_admin(
    db: &impl ConnectionTrait,
    admin: &Identity,
) -> Result<(), AppError> {
    match users::Entity::find_by_id(admin.user.id).one(db).await? {
        Some(now) if Role::parse(&now.role) == Role::Admin && now.disabled_at.is_none() => Ok(()),
        _ => Err(AppError::Forbidden("Only an admin can do this.".into())),
    }
}

async fn commit(txn: sea_orm::DatabaseTransaction) -> Result<(), AppError> {
    txn.commit().await?;
    cache::auth_committed();
    Ok(())
}

/// The account `id`, or the 404 that names it.
async fn account(db: &impl ConnectionTrait, id: UserId) -> Result<users::Model, AppError> {
    crate::users::find(db, id.uuid())
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such account (any more).".into()))
}

async fn record(
    db: &impl ConnectionTrait,
    admin: &Identity,
    what: &str,
    target: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let event =
        Event { actor: Some(admin.user.id), action: what, target: Some(target), success: true };
    audit::record(db, event, client).await
}

fn row(state: &AppState, admin: &Identity, user: users::Model, used: Option<&Usage>) -> AccountRow {
    let quota = crate::files::quota_of(state, &user);
    AccountRow {
        id: UserId::from(user.id),
        role: Role::parse(&user.role),
        created: user.created_at.to_rfc3339(),
        disabled: user.disabled_at.is_some(),
        used: used.map_or(0, Usage::bytes),
        files: used.map_or(0, Usage::files),
        quota,
        quota_setting: setting_text(&QuotaSetting::of(&user)),
        you: user.id == admin.user.id,
        email: user.email,
        display_name: user.display_name,
    }
}

fn setting_text(setting: &QuotaSetting) -> String {
    match setting {
        QuotaSetting::Default => "default".into(),
        QuotaSetting::Unlimited => "unlimited".into(),
        QuotaSetting::Bytes(bytes) => exact_size(*bytes),
    }
}

/// `bytes` in the largest unit that holds it whole (`20 GiB`, `1536 KiB`), so the quota field
/// shows what it takes back.
fn exact_size(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    UNITS
        .iter()
        .find(|(shift, _)| bytes != 0 && bytes.is_multiple_of(1 << shift))
        .map_or_else(|| format!("{bytes} B"), |(shift, unit)| format!("{} {unit}", bytes >> shift))
}

/// What one owner's files take.
#[derive(Debug, FromQueryResult)]
struct Usage {
    owner_id: Uuid,
    bytes: Option<i64>,
    files: i64,
}

impl Usage {
    fn bytes(&self) -> u64 {
        self.bytes.and_then(|b| u64::try_from(b).ok()).unwrap_or(0)
    }

    fn files(&self) -> u64 {
        u64::try_from(self.files).unwrap_or(0)
    }
}

/// What every file of the instance takes: bytes and files.
async fn total_usage(db: &impl ConnectionTrait) -> Result<(u64, u64), AppError> {
    let total: Option<(Option<i64>, i64)> = files::Entity::find()
        .select_only()
        .column_as(Expr::col(files::Column::Size).sum().cast_as("BIGINT"), "bytes")
        .column_as(files::Column::Id.count(), "files")
        .into_tuple()
        .one(db)
        .await?;
    let (bytes, count) = total.unwrap_or((None, 0));
    Ok((bytes.and_then(|b| u64::try_from(b).ok()).unwrap_or(0), u64::try_from(count).unwrap_or(0)))
}

/// What the files of each of `owners` take (one query; owners without files are missing).
async fn usage_of(db: &impl ConnectionTrait, owners: Vec<Uuid>) -> Result<Vec<Usage>, AppError> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    Ok(files::Entity::find()
        .select_only()
        .column(files::Column::OwnerId)
        .column_as(Expr::col(files::Column::Size).sum().cast_as("BIGINT"), "bytes")
        .column_as(files::Column::Id.count(), "files")
        .filter(files::Column::OwnerId.is_in(owners))
        .group_by(files::Column::OwnerId)
        .into_model::<Usage>()
        .all(db)
        .await?)
}
