//! Accounts: sign-up (first account becomes admin; registration mode and invites), sign-in
//! with throttling, password changes and reset links, profile, deletion.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::account::{DisplayName, EmailAddress, RegistrationMode, Role};
use crate::audit::{self, Event, action};
use crate::auth::{ClientInfo, password, sha256_hex};
use crate::entities::{password_resets, users};
use crate::limits::{Budget, address_key};
use crate::state::AppState;
use crate::tokens::TokensToRevoke;
use crate::{AppError, cache};
use crate::{invites, settings, setup};

const BAD_CREDENTIALS: &str = "Invalid email or password.";

/// A sign-up request, already parsed.
pub struct SignUp {
    /// The address to sign in with.
    pub email: EmailAddress,
    /// The name shown to others.
    pub display_name: DisplayName,
    /// The chosen password (policy checked here).
    pub password: SecretString,
    /// The invite secret from the link, when registration is invite-only.
    pub invite: Option<String>,
    /// The one-time setup token, for the first account (the admin).
    pub setup: Option<String>,
}

/// Creates an account through the sign-up page, under the registration mode. The first account
/// on an empty instance needs the setup token (see `setup`) and becomes admin. The cheap
/// refusals come first and
/// reveal nothing: a closed instance or a missing, used or expired invite is refused before the
/// email is looked at and before the password is hashed (argon2 is paid only by sign-ups that
/// may succeed).
#[tracing::instrument(skip_all)]
pub async fn sign_up(
    state: &AppState,
    input: SignUp,
    client: &ClientInfo,
) -> Result<users::Model, AppError> {
    let db = &state.db;
    password::check_policy(&input.password, "password")?;
    let mode = settings::registration_mode(db).await?;
    let first = users::Entity::find().count(db).await? == 0;
    if first && !setup::accepts(db, input.setup.as_deref()).await? {
        return Err(setup::needed());
    }
    if !first && mode == RegistrationMode::Closed {
        return Err(AppError::Forbidden(
            "Sign-up is closed on this instance. Ask an admin to create an account for you.".into(),
        ));
    }
    let invite = input.invite.as_deref().map(str::trim).unwrap_or_default();
    let needs_invite = !first && mode == RegistrationMode::InviteOnly;
    if needs_invite && !invites::is_open(db, invite).await? {
        return Err(invites::unusable(invite));
    }
    // Counted before the hash (19 MiB, ~50 ms of a core): a flood is refused cheaply.
    state.limits.take(Budget::SignUp, &address_key(client.ip.as_deref())).await?;
    let hash = password::hash(input.password).await?;
    let txn = db.begin().await?;
    let first = users::Entity::find().count(&txn).await? == 0;
    if first {
        setup::use_up(&txn).await?;
    }
    let role = if first { Role::Admin } else { Role::User };
    let user = insert(&txn, Uuid::new_v4(), &input.email, &input.display_name, hash, role).await?;
    if needs_invite && !first {
        invites::consume(&txn, invite, user.id).await?;
    }
    txn.commit().await?;
    audit::own_account(db, &user, action::SIGN_UP, client).await?;
    Ok(user)
}

/// Creates an account from the command line: no registration mode, any role.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
    display_name: &DisplayName,
    password: SecretString,
    role: Role,
) -> Result<users::Model, AppError> {
    password::check_policy(&password, "password")?;
    let hash = password::hash(password).await?;
    let user = insert(db, Uuid::new_v4(), email, display_name, hash, role).await?;
    let event = Event {
        actor: None,
        action: action::USER_CREATED,
        target: Some(&user.email),
        success: true,
    };
    audit::record(db, event, &ClientInfo::default()).await?;
    if role == Role::Admin {
        let event = Event {
            actor: None,
            action: action::ROLE_CHANGED,
            target: Some(&user.email),
            success: true,
        };
        audit::record(db, event, &ClientInfo::default()).await?;
    }
    Ok(user)
}

async fn insert(
    db: &impl ConnectionTrait,
    id: Uuid,
    email: &EmailAddress,
    display_name: &DisplayName,
    password_hash: String,
    role: Role,
) -> Result<users::Model, AppError> {
    if find_by_email(db, email).await?.is_some() {
        return Err(AppError::invalid(
            "email",
            "An account with this email already exists. Sign in instead.",
        ));
    }
    let now = Utc::now();
    let user = users::ActiveModel {
        id: Set(id),
        email: Set(email.as_str().to_owned()),
        display_name: Set(display_name.as_str().to_owned()),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        password_changed_at: Set(now),
        quota_bytes: Set(None),
        avatar_key: Set(None),
        disabled_at: Set(None),
    };
    Ok(user.insert(db).await?)
}

/// Checks email and password. Each attempt takes one unit of the account's and the address's
/// sign-in budgets *before* the password is checked, so a parallel burst cannot slip past
/// them; past them → 429 with `Retry-After`, whatever the password. Every attempt is audited.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password: SecretString,
    client: &ClientInfo,
) -> Result<users::Model, AppError> {
    let db = &state.db;
    let email = email.trim().to_lowercase();
    state.limits.take(Budget::SignInAddress, &address_key(client.ip.as_deref())).await?;
    state.limits.take(Budget::SignInAccount, &email).await?;
    let user = match EmailAddress::parse(&email) {
        Ok(parsed) => find_by_email(db, &parsed).await?,
        Err(_) => None,
    };
    let ok = password::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let event = Event {
        actor: user.as_ref().filter(|_| ok).map(|u| u.id),
        action: action::SIGN_IN,
        target: Some(&email),
        success: ok && user.as_ref().is_some_and(|u| u.disabled_at.is_none()),
    };
    audit::record(db, event, client).await?;
    match user {
        Some(user) if ok && user.disabled_at.is_some() => Err(AppError::Forbidden(DISABLED.into())),
        Some(user) if ok => Ok(user),
        _ => Err(AppError::Unauthorized(BAD_CREDENTIALS.into())),
    }
}

/// What someone whose account an admin turned off hears (after the right password).
const DISABLED: &str = "An admin turned this account off. Ask them to turn it on again.";

/// The account with this email, if any.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<users::Model>, AppError> {
    Ok(users::Entity::find().filter(users::Column::Email.eq(email.as_str())).one(db).await?)
}

/// The account with this id, if any.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<users::Model>, AppError> {
    Ok(users::Entity::find_by_id(id).one(db).await?)
}

/// The account a session or token belongs to, from the cache while the auth epoch `epoch`
/// (read before the session or token) holds ([`cache`]).
pub(crate) async fn signed_in(
    db: &impl ConnectionTrait,
    id: Uuid,
    epoch: u64,
) -> Result<Option<users::Model>, AppError> {
    let user = cache::user(id, epoch, find(db, id)).await?;
    Ok(user.filter(|user| user.disabled_at.is_none()))
}

/// A password change as the account page asks for it.
pub struct PasswordChange {
    /// The password now (checked).
    pub current: SecretString,
    /// The new one (policy checked).
    pub new: SecretString,
    /// Which API tokens end with the other sessions.
    pub tokens: TokensToRevoke,
}

/// Changes the caller's password after checking the current one: every other session ends,
/// `session` (the caller's) goes on under a new id, and the chosen API tokens are revoked.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn change_password(
    db: &impl ConnectionTrait,
    session: &tower_sessions::Session,
    user: &users::Model,
    change: PasswordChange,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let PasswordChange { current, new, tokens } = change;
    if !password::verify(current, Some(user.password_hash.clone())).await? {
        return Err(AppError::invalid("current_password", "That is not your current password."));
    }
    password::check_policy(&new, "new_password")?;
    set_password(db, user.clone(), new).await?;
    crate::tokens::revoke_all(db, user.id, tokens).await?;
    crate::sessions::keep_only_current(db, session, user).await?;
    audit::own_account(db, user, action::PASSWORD_CHANGED, client).await
}

/// Sets a new password from the command line; every session and every API token of the
/// account ends (whoever lost control of the account may have made some).
pub async fn reset_password(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
    new: SecretString,
) -> Result<(), AppError> {
    let user = find_by_email(db, email).await?.ok_or_else(|| {
        AppError::NotFound(format!("No account has the email {}.", email.as_str()))
    })?;
    password::check_policy(&new, "password")?;
    let user_id = user.id;
    set_password(db, user, new).await?;
    crate::sessions::revoke_all(db, user_id, None).await?;
    crate::tokens::revoke_all(db, user_id, TokensToRevoke::All).await?;
    let event = Event {
        actor: None,
        action: action::PASSWORD_RESET,
        target: Some(email.as_str()),
        success: true,
    };
    audit::record(db, event, &ClientInfo::default()).await
}

async fn set_password(
    db: &impl ConnectionTrait,
    user: users::Model,
    new: SecretString,
) -> Result<(), AppError> {
    let hash = password::hash(new).await?;
    let mut user = user.into_active_model();
    user.password_hash = Set(hash);
    user.password_changed_at = Set(Utc::now());
    user.update(db).await?;
    cache::auth_changed(db).await?;
    Ok(())
}

/// Renames the account.
pub async fn set_display_name(
    db: &impl ConnectionTrait,
    user: &users::Model,
    name: &DisplayName,
) -> Result<(), AppError> {
    let mut user = user.clone().into_active_model();
    user.display_name = Set(name.as_str().to_owned());
    user.update(db).await?;
    cache::auth_changed(db).await?;
    Ok(())
}

/// Deletes the account and everything it owns (sessions, tokens, folders, files and their
/// bytes) after checking its password.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn delete(
    state: &crate::state::AppState,
    user: &users::Model,
    password: SecretString,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if !password::verify(password, Some(user.password_hash.clone())).await? {
        return Err(AppError::invalid("password", "That is not your password."));
    }
    let event = Event {
        actor: Some(user.id),
        action: action::ACCOUNT_DELETED,
        target: Some(&user.email),
        success: true,
    };
    erase(state, user, event, None, client).await
}

/// Deletes the account and everything it owns, recording `event`. An `admin` deleting it is
/// read again inside the transaction ([`crate::admin`]).
pub(crate) async fn erase(
    state: &crate::state::AppState,
    user: &users::Model,
    event: Event<'_>,
    admin: Option<&crate::auth::Identity>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let txn = state.db.begin().await?;
    cache::auth_changed(&txn).await?;
    if let Some(admin) = admin {
        crate::admin::still_admin(&txn, admin).await?;
    }
    audit::record(&txn, event, client).await?;
    let blobs = crate::files::queue_account_blobs(&txn, user).await?;
    let uploads = crate::uploads::of_owner(&txn, user.id).await?;
    users::Entity::delete_by_id(user.id).exec(&txn).await?;
    txn.commit().await?;
    cache::auth_committed();
    cache::shares_changed();
    crate::files::purge_deleted_blobs(state, Some(blobs)).await;
    crate::uploads::discard_all(&state.storage, &uploads).await;
    Ok(())
}

/// The account a password reset link `secret` is for, while the link works.
pub async fn reset_link_account(
    db: &impl ConnectionTrait,
    secret: &str,
) -> Result<users::Model, AppError> {
    let reset = password_resets::Entity::find_by_id(sha256_hex(secret.trim()))
        .filter(password_resets::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .ok_or_else(reset_link_gone)?;
    find(db, reset.user_id).await?.ok_or_else(reset_link_gone)
}

/// Sets a new password through reset link `secret`, which then stops working; every session
/// and API token of the account ends.
pub async fn reset_with_link(
    db: &DatabaseConnection,
    secret: &str,
    new: SecretString,
    client: &ClientInfo,
) -> Result<(), AppError> {
    password::check_policy(&new, "password")?;
    let txn = db.begin().await?;
    let user = reset_link_account(&txn, secret).await?;
    // Taken once: of two tabs sending the form, one sets the password.
    let taken = password_resets::Entity::delete_by_id(sha256_hex(secret.trim()))
        .filter(password_resets::Column::ExpiresAt.gt(Utc::now()))
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(reset_link_gone());
    }
    let user_id = user.id;
    let email = user.email.clone();
    set_password(&txn, user, new).await?;
    crate::sessions::revoke_all(&txn, user_id, None).await?;
    crate::tokens::revoke_all(&txn, user_id, TokensToRevoke::All).await?;
    let event = Event {
        actor: Some(user_id),
        action: action::PASSWORD_RESET,
        target: Some(&email),
        success: true,
    };
    audit::record(&txn, event, client).await?;
    txn.commit().await?;
    cache::auth_committed();
    Ok(())
}

fn reset_link_gone() -> AppError {
    AppError::Gone(
        "This reset link has expired or was already used. Ask an admin for a new one.".into(),
    )
}
