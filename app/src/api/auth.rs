//! Signing up, in and out.

use domain::AppError;
use domain::account::UserDto;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::edge::{client, identity, session, state};
#[cfg(feature = "ssr")]
use super::safe_next;

/// The signed-in account, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserDto>, AppError> {
    Ok(identity().map(|identity| identity.dto()))
}

/// Creates an account (under the registration mode), signs it in and goes to `next`.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    display_name: String,
    password: String,
    invite: Option<String>,
    setup: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    use domain::account::{DisplayName, EmailAddress};
    let state = state()?;
    let client = client();
    let input = domain::users::SignUp {
        email: EmailAddress::parse(&email)?,
        display_name: DisplayName::parse(&display_name)?,
        password: password.into(),
        invite: invite.filter(|i| !i.is_empty()),
        setup: setup.filter(|s| !s.is_empty()),
    };
    let user = domain::users::sign_up(&state, input, &client).await?;
    domain::sessions::sign_in(&session()?, &user, false, &client, &state.config).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Checks the credentials (throttled), starts a session and goes to `next`.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let state = state()?;
    let client = client();
    let user = domain::users::authenticate(&state, &email, password.into(), &client).await?;
    domain::sessions::sign_in(&session()?, &user, remember.is_some(), &client, &state.config)
        .await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends this session.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let state = state()?;
    domain::sessions::sign_out(&state.db, &session()?, identity().as_ref(), &client()).await?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// The email of the account a password reset link is for, while the link works.
#[server(endpoint = "reset_link_email")]
pub async fn reset_link_email(token: String) -> Result<String, AppError> {
    Ok(domain::users::reset_link_account(&state()?.db, &token).await?.email)
}

/// Sets a new password through a reset link (which then stops working), ends every session
/// and token of the account, and goes to the sign-in page.
#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    domain::users::reset_with_link(&state()?.db, &token, password.into(), &client()).await?;
    leptos_axum::redirect("/sign-in?reset=done");
    Ok(())
}
