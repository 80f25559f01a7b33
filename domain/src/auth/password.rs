//! Passwords: policy (length, not a common password), argon2id hashing off the async threads,
//! and verification that takes the same time whether or not the account exists.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{
    self, Output, ParamsString, PasswordHash, PasswordHasher, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
/// set from `password_hashing_concurrency` at startup. Each turn works in memory kept from
/// earlier turns, so a flood of checks neither queues without bound nor grows the heap: the
/// allocator never sees a 19 MiB block come and go per check.
static HASHING: OnceLock<Slots> = OnceLock::new();
/// How long a password check waits for a turn before the server says it is busy.
const HASHING_WAIT: Duration = Duration::from_secs(2);

struct Slots {
    turns: Arc<Semaphore>,
    memory: Mutex<Vec<Vec<Block>>>,
}

impl Slots {
    fn new(turns: usize) -> Self {
        Self { turns: Arc::new(Semaphore::new(turns.max(1))), memory: Mutex::new(Vec::new()) }
    }
}

/// Sets how many password checks run at once (first call wins; the default is 2).
pub fn set_concurrency(checks: usize) {
    let _ = HASHING.set(Slots::new(checks));
}

/// Runs `work` (argon2, in the turn's memory) on the blocking pool once a turn is free; no turn
/// within [`HASHING_WAIT`] → 503 `overloaded`.
async fn with_slot<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, AppError> {
    let slots = HASHING.get_or_init(|| Slots::new(2));
    let turn = tokio::time::timeout(HASHING_WAIT, Arc::clone(&slots.turns).acquire_owned())
        .await
        .map_err(|_| AppError::Overloaded {
            message: "The server is busy checking other passwords. Try again in a moment.".into(),
            retry_after_secs: 2,
        })?
        .map_err(|e| AppError::internal("password hashing slots", &e))?;
    let done = tokio::task::spawn_blocking(move || {
        let pool = &slots.memory;
        let mut memory =
            pool.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        let result = work(&mut memory);
        pool.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
        drop(turn);
        result
    });
    done.await.map_err(|e| AppError::internal("password hashing task", &e))
}

/// argon2's output for `password` and `salt` with `argon`'s parameters, in `memory` (grown to
/// the parameters' block count if it is smaller).
fn output(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    memory: &mut Vec<Block>,
) -> password_hash::Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let length = argon.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(length, |out| {
        Ok(argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])?)
    })
}

/// Hashes `password` with argon2id (see [`with_slot`]); a PHC string.
pub async fn hash(password: SecretString) -> Result<String, AppError> {
    with_slot(move |memory| {
        let salt = SaltString::generate(&mut OsRng);
        let argon = hasher();
        let phc = output(&argon, password.expose_secret().as_bytes(), salt.as_salt(), memory)
            .and_then(|hash| {
                Ok(PasswordHash {
                    algorithm: Algorithm::Argon2id.ident(),
                    version: Some(Version::V0x13.into()),
                    params: ParamsString::try_from(argon.params())?,
                    salt: Some(salt.as_salt()),
                    hash: Some(hash),
                }
                .to_string())
            });
        phc.map_err(|e| AppError::internal("hashing a password", &PasswordError(e)))
    })
    .await?
}

/// Verifies `password` against `stored`, or against a dummy hash when there is no account.
/// Returns `false` for no account, whatever the password.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool, AppError> {
    with_slot(move |memory| {
        let exists = stored.is_some();
        let Some(hash) = stored.or_else(|| DUMMY_HASH.clone()) else {
            return false;
        };
        let matches = matches(password.expose_secret().as_bytes(), &hash, memory);
        exists && matches.unwrap_or(false)
    })
    .await
}

/// Whether `password` hashes to the PHC string `stored` (with the parameters it names).
fn matches(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> password_hash::Result<bool> {
    let stored = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else { return Ok(false) };
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = stored.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let argon = Argon2::new(algorithm, version, Params::try_from(&stored)?);
    // `Output`'s equality is constant-time.
    Ok(output(&argon, password, salt, memory)? == expected)
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

    #[test]
    fn hashes_in_kept_memory_are_the_crates_own_phc_strings() {
        use argon2::password_hash::PasswordVerifier;
        let password = b"correct horse battery staple";
        // Made by the crate's own hasher (as earlier versions stored them): verified here.
        let salt = SaltString::generate(&mut OsRng);
        let stored = hasher().hash_password(password, &salt).unwrap().to_string();
        let mut memory = Vec::new();
        assert!(matches(password, &stored, &mut memory).unwrap());
        assert!(!matches(b"wrong", &stored, &mut memory).unwrap());
        assert_eq!(memory.len(), 19_456, "one block per KiB, kept for the next check");
        // And the other way: ours verify with the crate's verifier.
        let ours = tokio::runtime::Runtime::new().unwrap().block_on(hash(secret("x y z w v u")));
        let ours = ours.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher().verify_password(b"x y z w v u", &parsed).is_ok());
    }
}
