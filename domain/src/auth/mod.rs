//! Authentication building blocks: who is asking (`Identity`), from where (`ClientInfo`),
//! passwords, and the small crypto helpers tokens and invites share.

pub mod password;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::account::{Role, TokenScope, UserDto};
use crate::entities::users;

/// Where a request comes from, for the audit log and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer address.
    pub ip: Option<String>,
    /// The `User-Agent` header, truncated.
    pub user_agent: Option<String>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The account.
    pub user: users::Model,
    /// `Some` when authenticated by an API token, with its scope.
    pub token_scope: Option<TokenScope>,
}

impl Identity {
    /// The account's role.
    pub fn role(&self) -> Role {
        Role::parse(&self.user.role)
    }

    /// Fails unless this caller may change things (a session, or a write token).
    pub fn require_write(&self) -> Result<(), AppError> {
        match self.token_scope {
            Some(TokenScope::Read) => {
                Err(AppError::Forbidden("This token is read-only; create a write token.".into()))
            }
            _ => Ok(()),
        }
    }

    /// Fails unless the caller signed in with a password (a browser session): an API token
    /// cannot make more tokens, so a leaked one cannot outlive its own revocation or expiry.
    pub fn require_session(&self) -> Result<(), AppError> {
        match self.token_scope {
            Some(_) => Err(AppError::Forbidden(
                "API tokens can only be made from a signed-in browser session.".into(),
            )),
            None => Ok(()),
        }
    }

    /// Fails unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role() == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden("Only an admin can do this.".into()))
        }
    }

    /// The account as the browser sees it.
    pub fn dto(&self) -> UserDto {
        user_dto(&self.user)
    }
}

/// The account as the browser sees it.
pub fn user_dto(user: &users::Model) -> UserDto {
    UserDto {
        id: user.id.to_string(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: Role::parse(&user.role),
        created_at: user.created_at.to_rfc3339(),
        has_avatar: user.avatar_key.is_some(),
    }
}

/// "2026-11-21 15:04 UTC".
pub fn human_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Lower-case hex SHA-256 of `value` (how tokens and invites are stored).
pub fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` random bytes from the OS, URL-safe base64 without padding.
pub fn random_secret(bytes: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_reference_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_are_random_and_url_safe() {
        let a = random_secret(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_secret(32));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
