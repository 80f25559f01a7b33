//! First run: until an account exists, only the holder of a one-time setup token may sign up,
//! and that first account is the admin. `pannier serve` prints the setup link when it starts
//! on an empty instance (or the admin is made with `pannier user create --admin`); the
//! token's hash is kept in the settings and the first sign-up uses it up. Whoever reaches an
//! internet-facing box first can no longer make themselves its admin.

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

use crate::AppError;
use crate::auth::{random_secret, sha256_hex};
use crate::entities::{settings, users};

/// Settings key of the setup token's hash.
const SETUP_TOKEN: &str = "setup_token";

/// A new setup token while no account exists (it replaces any earlier one); `None` once one
/// does.
pub async fn issue(db: &impl ConnectionTrait) -> Result<Option<String>, AppError> {
    if users::Entity::find().count(db).await? > 0 {
        use_up(db).await?;
        return Ok(None);
    }
    let token = random_secret(24);
    crate::settings::set(db, SETUP_TOKEN, &sha256_hex(&token)).await?;
    Ok(Some(token))
}

/// Whether `token` is the current setup token.
pub(crate) async fn accepts(
    db: &impl ConnectionTrait,
    token: Option<&str>,
) -> Result<bool, AppError> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(false) };
    let stored = settings::Entity::find_by_id(SETUP_TOKEN).one(db).await?;
    Ok(stored.is_some_and(|row| row.value == sha256_hex(token)))
}

/// Forgets the setup token (the admin exists).
pub(crate) async fn use_up(db: &impl ConnectionTrait) -> Result<(), AppError> {
    settings::Entity::delete_by_id(SETUP_TOKEN).exec(db).await?;
    Ok(())
}

/// The error for a sign-up on an instance without an admin and without the setup token.
pub(crate) fn needed() -> AppError {
    AppError::Forbidden(
        "This instance has no admin yet. Open the setup link that `pannier serve` printed when \
         it started, or run `pannier user create --admin`."
            .into(),
    )
}
