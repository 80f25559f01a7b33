//! The signed-in person's own account: profile, password, sessions, API tokens, deletion.

use domain::AppError;
use domain::account::{SessionDto, TokenDto, UserDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::edge::{client, require_identity, session, state};

/// Everything the account page shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountPage {
    /// The account.
    pub user: UserDto,
    /// Signed-in browsers and devices.
    pub sessions: Vec<SessionDto>,
    /// API tokens (without secrets).
    pub tokens: Vec<TokenDto>,
    /// A token secret created just now, shown this once.
    pub new_token: Option<String>,
}

/// The account page's data; `Unauthorized` when signed out.
#[server(endpoint = "account_overview")]
pub async fn account_overview() -> Result<AccountPage, AppError> {
    let identity = require_identity()?;
    let state = state()?;
    let session = session()?;
    Ok(AccountPage {
        user: identity.dto(),
        sessions: domain::sessions::list(&state.db, identity.user.id, session.id()).await?,
        tokens: domain::tokens::list(&state.db, identity.user.id).await?,
        new_token: domain::sessions::take_flash(&session, "new_token").await?,
    })
}

/// Renames the account.
#[server(endpoint = "update_profile")]
pub async fn update_profile(display_name: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let name = domain::account::DisplayName::parse(&display_name)?;
    domain::users::set_display_name(&state()?.db, &identity.user, &name).await?;
    leptos_axum::redirect("/account");
    Ok(())
}

/// Changes the password (the current one is required), signs out every other session and
/// revokes the API tokens chosen (`tokens`: `write` by default, `all` or `keep`).
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    tokens: Option<String>,
) -> Result<(), AppError> {
    let identity = require_identity()?;
    let state = state()?;
    let change = domain::users::PasswordChange {
        current: current_password.into(),
        new: new_password.into(),
        tokens: domain::tokens::TokensToRevoke::parse(tokens.as_deref())?,
    };
    domain::users::change_password(&state.db, &session()?, &identity.user, change, &client())
        .await?;
    leptos_axum::redirect("/account");
    Ok(())
}

/// Signs out one of the account's sessions.
#[server(endpoint = "revoke_session")]
pub async fn revoke_session(handle: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    domain::sessions::revoke(&state()?.db, &identity.user, &handle, &client()).await?;
    leptos_axum::redirect("/account");
    Ok(())
}

/// Signs out every session of the account, this one included, and revokes the API tokens
/// chosen (`tokens`: `write` by default, `all` or `keep`).
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere(tokens: Option<String>) -> Result<(), AppError> {
    let identity = require_identity()?;
    let tokens = domain::tokens::TokensToRevoke::parse(tokens.as_deref())?;
    let db = &state()?.db;
    domain::sessions::sign_out_everywhere(db, &session()?, &identity, tokens, &client()).await?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// Creates an API token; the secret is shown once on the account page.
#[server(endpoint = "create_token")]
pub async fn create_token(
    name: String,
    scope: String,
    expires_days: Option<String>,
) -> Result<(), AppError> {
    let identity = require_identity()?;
    identity.require_session()?;
    let scope = domain::account::TokenScope::parse(&scope)?;
    let expires_days = match expires_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(days) => Some(days.parse::<u32>().map_err(|_| {
            AppError::invalid(
                "expires_days",
                "Enter a number of days, or leave it empty for no expiry.",
            )
        })?),
    };
    let state = state()?;
    let created =
        domain::tokens::create(&state.db, &identity.user, &name, scope, expires_days, &client())
            .await?;
    domain::sessions::set_flash(&session()?, "new_token", &created.secret).await?;
    leptos_axum::redirect("/account#tokens");
    Ok(())
}

/// Revokes one of the account's API tokens.
#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: domain::ids::TokenId) -> Result<(), AppError> {
    let identity = require_identity()?;
    domain::tokens::revoke(&state()?.db, &identity.user, id, &client()).await?;
    leptos_axum::redirect("/account#tokens");
    Ok(())
}

/// Deletes the account and everything it owns (the password is required).
#[server(endpoint = "delete_account")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    let identity = require_identity()?;
    let state = state()?;
    domain::users::delete(&state, &identity.user, password.into(), &client()).await?;
    session()?.flush().await.map_err(|e| AppError::internal("session flush", &e))?;
    leptos_axum::redirect("/");
    Ok(())
}
