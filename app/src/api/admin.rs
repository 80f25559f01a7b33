//! Instance administration: who may sign up, invites, and the job queue.

use domain::AppError;
use domain::account::{InviteDto, RegistrationMode};
use domain::ids::JobId;
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
