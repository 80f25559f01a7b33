//! Passwords: policy (length, not a common password), argon2id hashing off the async threads,
//! and verification that takes the same time whether or not the account exists.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::AppError;

/// Shortest accepted password.
pub const MIN_LEN: usize = 8;
/// Longest accepted password (bounds the hashing work).
pub const MAX_LEN: usize = 1024;

/// The 10,000 most common passwords (SecLists' "10 million password list", top 10k; MIT).
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// A hash of a random password, verified against when the account does not exist, so a wrong
/// email costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(super::random_secret(16).as_bytes(), &salt).ok().map(|h| h.to_string())
});

/// argon2id with OWASP's parameters: 19 MiB memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks length and commonness; `field` names the form field for the error.
pub fn check_policy(password: &SecretString, field: &str) -> Result<(), AppError> {
    let password = password.expose_secret();
    let length = password.chars().count();
    if length < MIN_LEN {
        return Err(AppError::invalid(field, format!("Use at least {MIN_LEN} characters.")));
    }
    if length > MAX_LEN {
        return Err(AppError::invalid(field, format!("Use at most {MAX_LEN} characters.")));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(AppError::invalid(
            field,
            "This password is one of the most common ones and easy to guess; choose another.",
        ));
    }
    Ok(())
}

/// argon2 runs at once at most this many times (each takes 19 MiB and a core for ~50 ms);
/// set from `password_hashing_concurrency` at startup.
static HASHING: OnceLock<Arc<Semaphore>> = OnceLock::new();
/// How long a password check waits for a turn before the server says it is busy.
const HASHING_WAIT: Duration = Duration::from_secs(2);

/// Sets how many password checks run at once (first call wins; the default is 2).
pub fn set_concurrency(checks: usize) {
    let _ = HASHING.set(Arc::new(Semaphore::new(checks.max(1))));
}

/// Runs `work` (argon2) on the blocking pool once a hashing slot is free; no slot within
/// [`HASHING_WAIT`] → 503 `overloaded`, so a flood of sign-ins or sign-ups costs bounded memory
/// and never starves the blocking pool.
async fn with_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let slots = Arc::clone(HASHING.get_or_init(|| Arc::new(Semaphore::new(2))));
    let slot = tokio::time::timeout(HASHING_WAIT, slots.acquire_owned())
        .await
        .map_err(|_| AppError::Overloaded {
            message: "The server is busy checking other passwords. Try again in a moment.".into(),
            retry_after_secs: 2,
        })?
        .map_err(|e| AppError::internal("password hashing slots", &e))?;
    let done = tokio::task::spawn_blocking(move || {
        let result = work();
        drop(slot);
        result
    });
    done.await.map_err(|e| AppError::internal("password hashing task", &e))
}

/// Hashes `password` with argon2id (see [`with_slot`]).
pub async fn hash(password: SecretString) -> Result<String, AppError> {
    with_slot(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::internal("hashing a password", &PasswordError(e)))
    })
    .await?
}

/// Verifies `password` against `stored`, or against a dummy hash when there is no account.
/// Returns `false` for no account, whatever the password.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool, AppError> {
    with_slot(move || {
        let exists = stored.is_some();
        let Some(hash) = stored.or_else(|| DUMMY_HASH.clone()) else {
            return false;
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let matches =
            hasher().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
        exists && matches
    })
    .await
}

/// `password_hash::Error` is not `std::error::Error` without its `std` feature path; wrap it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PasswordError(argon2::password_hash::Error);

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn policy_rejects_short_long_and_common_passwords() {
        assert!(check_policy(&secret("short"), "password").is_err());
        assert!(check_policy(&secret(&"x".repeat(1025)), "password").is_err());
        for common in ["password", "12345678", "Qwertyuiop", "iloveyou"] {
            let err = check_policy(&secret(common), "password").unwrap_err();
            assert!(err.to_string().contains("common"), "{common}: {err}");
        }
        assert!(check_policy(&secret("correct horse battery staple"), "password").is_ok());
        assert_eq!(COMMON.len(), 10_000);
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash(secret("correct horse battery staple")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify(secret("correct horse battery staple"), Some(hash.clone())).await.unwrap());
        assert!(!verify(secret("wrong horse battery staple"), Some(hash.clone())).await.unwrap());
        assert!(!verify(secret("correct horse battery staple"), None).await.unwrap());
        let other = super::hash(secret("correct horse battery staple")).await.unwrap();
        assert_ne!(hash, other, "salted");
    }
}
