//! Instance administration: who may sign up, invites, the job queue, and the accounts.

use domain::AppError;
use domain::account::{InviteDto, RegistrationMode};
use domain::admin::{AccountsPage, AuditPage, StatusPanel};
use domain::ids::{JobId, UserId};
use domain::jobs::{JobCounts, JobDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::edge::{client, require_identity, session, state};

/// Everything the admin page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminPage {
    /// Who may sign up.
    pub mode: RegistrationMode,
    /// Invites, newest first.
    pub invites: Vec<InviteDto>,
    /// The link of an invite created just now, shown this once.
    pub new_invite_link: Option<String>,
    /// Jobs by state.
    pub jobs: JobCounts,
    /// The dead jobs (at most 50), with their errors.
    pub dead_jobs: Vec<JobDto>,
    /// Previews this machine cannot make, and why (a tool is missing).
    pub missing_tools: Vec<String>,
}

/// The admin page's data; `Unauthorized` or `Forbidden` for everyone but admins.
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<AdminPage, AppError> {
    let identity = require_identity()?;
    identity.require_admin()?;
    let state = state()?;
    let secret = domain::sessions::take_flash(&session()?, "new_invite").await?;
    Ok(AdminPage {
        mode: domain::settings::registration_mode(&state.db).await?,
        invites: domain::invites::list(&state.db, &identity).await?,
        new_invite_link: secret
            .map(|s| format!("{}/sign-up?invite={s}", state.config.public_url())),
        jobs: domain::jobs::counts(&state.db).await?,
        dead_jobs: domain::jobs::list(&state.db, Some("dead"), 50).await?,
        missing_tools: domain::media::tools().await.missing().into_iter().map(Into::into).collect(),
    })
}

/// Runs a dead job again (admins only).
#[server(endpoint = "retry_job")]
pub async fn retry_job(id: JobId) -> Result<(), AppError> {
    require_identity()?.require_admin()?;
    domain::jobs::retry(&state()?.db, id).await?;
    leptos_axum::redirect("/admin#jobs");
    Ok(())
}

/// Deletes a job that is not running (admins only).
#[server(endpoint = "delete_job")]
pub async fn delete_job(id: JobId) -> Result<(), AppError> {
    require_identity()?.require_admin()?;
    domain::jobs::cancel(&state()?.db, id).await?;
    leptos_axum::redirect("/admin#jobs");
    Ok(())
}

/// Queues previews for the media files that have none, and the reading of the documents whose
/// text search does not know (admins only). How many files were queued.
#[server(endpoint = "make_missing_previews")]
pub async fn make_missing_previews() -> Result<u64, AppError> {
    require_identity()?.require_admin()?;
    let state = state()?;
    let previews = domain::media::backfill(&state).await?;
    Ok(previews + domain::search::backfill(&state.db).await?)
}

/// Sets who may sign up.
#[server(endpoint = "set_registration_mode")]
pub async fn set_registration_mode(mode: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let mode = RegistrationMode::parse(&mode)?;
    domain::settings::set_registration_mode(&state()?.db, &identity, mode, &client()).await?;
    leptos_axum::redirect("/admin");
    Ok(())
}

/// Creates a single-use invite valid for `days`; its link is shown once on the admin page.
#[server(endpoint = "create_invite")]
pub async fn create_invite(days: u32) -> Result<(), AppError> {
    let identity = require_identity()?;
    let (secret, _) = domain::invites::create(&state()?.db, &identity, days, &client()).await?;
    domain::sessions::set_flash(&session()?, "new_invite", &secret).await?;
    leptos_axum::redirect("/admin");
    Ok(())
}

/// A page of the accounts whose email or name holds `q`, with their storage (admins only).
#[server(endpoint = "admin_accounts")]
pub async fn admin_accounts(q: String, after: Option<String>) -> Result<AccountsPanel, AppError> {
    let identity = require_identity()?;
    let state = state()?;
    let page = domain::admin::list(&state, &identity, &q, after.as_deref()).await?;
    let reset = domain::sessions::take_flash(&session()?, "reset_link").await?.and_then(|flash| {
        let (email, secret) = flash.split_once(' ')?;
        Some(ResetLink {
            email: email.to_owned(),
            link: format!("{}/reset-password?token={secret}", state.config.public_url()),
        })
    });
    Ok(AccountsPanel { page, reset })
}

/// The accounts page's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountsPanel {
    /// The accounts.
    pub page: AccountsPage,
    /// A reset link made just now, shown this once.
    pub reset: Option<ResetLink>,
}

/// A password reset link and whose it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetLink {
    /// The account's email.
    pub email: String,
    /// The link to hand over.
    pub link: String,
}

/// Gives an account the role `admin` or `user` (admins only); then back to `back`.
#[server(endpoint = "set_account_role")]
pub async fn set_account_role(id: UserId, role: String, back: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let role = match role.as_str() {
        "admin" => domain::account::Role::Admin,
        "user" => domain::account::Role::User,
        _ => return Err(AppError::invalid("role", "A role is `admin` or `user`.")),
    };
    domain::admin::set_role(&state()?.db, &identity, id, role, &client()).await?;
    back_to_accounts(&back);
    Ok(())
}

/// Sets an account's quota: a size, `unlimited` or `default` (admins only).
#[server(endpoint = "set_account_quota")]
pub async fn set_account_quota(id: UserId, quota: String, back: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    domain::admin::set_quota(&state()?.db, &identity, id, &quota, &client()).await?;
    back_to_accounts(&back);
    Ok(())
}

/// Turns an account off (`disabled` true) or on again (admins only).
#[server(endpoint = "set_account_disabled")]
pub async fn set_account_disabled(
    id: UserId,
    disabled: bool,
    back: String,
) -> Result<(), AppError> {
    let identity = require_identity()?;
    domain::admin::set_disabled(&state()?.db, &identity, id, disabled, &client()).await?;
    back_to_accounts(&back);
    Ok(())
}

/// Deletes an account and everything it owns, once `confirm` is its email (admins only).
#[server(endpoint = "delete_account_as_admin")]
pub async fn delete_account_as_admin(
    id: UserId,
    confirm: String,
    back: String,
) -> Result<(), AppError> {
    let identity = require_identity()?;
    domain::admin::delete(&state()?, &identity, id, &confirm, &client()).await?;
    back_to_accounts(&back);
    Ok(())
}

/// Makes a one-time password reset link for an account, shown once on the page (admins only).
#[server(endpoint = "create_reset_link")]
pub async fn create_reset_link(id: UserId, back: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let (secret, email) = domain::admin::reset_link(&state()?.db, &identity, id, &client()).await?;
    domain::sessions::set_flash(&session()?, "reset_link", &format!("{email} {secret}")).await?;
    back_to_accounts(&back);
    Ok(())
}

/// Back to the accounts page the form was on (its search and page), never elsewhere.
#[cfg(feature = "ssr")]
fn back_to_accounts(back: &str) {
    let back = super::safe_next(Some(back));
    let back = if back.starts_with("/admin/users") { back } else { "/admin/users".to_owned() };
    leptos_axum::redirect(&back);
}

/// A page of the audit log, newest first, narrowed by action, by part of an email and to
/// failures (admins only).
#[server(endpoint = "admin_audit")]
pub async fn admin_audit(
    action: String,
    who: String,
    failed: bool,
    before: Option<String>,
) -> Result<AuditPage, AppError> {
    let filter = domain::admin::AuditFilter { action, who, failed, before };
    domain::audit::list(&state()?.db, &require_identity()?, &filter).await
}

/// The status page's data: version, dependencies, jobs, sessions, the last hour's traffic
/// (admins only).
#[server(endpoint = "admin_status")]
pub async fn admin_status() -> Result<StatusPanel, AppError> {
    domain::admin::status(&state()?, &require_identity()?).await
}
