//! The unguessable part of a share link: 144 random bits, URL-safe base64 (24 characters).
//! Links are found by the SHA-256 of their slug, so the lookup's timing says nothing about
//! how much of a guessed slug matched.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Characters in a slug.
const LEN: usize = 24;

/// A share slug, as made here or read from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSlug(String);

impl ShareSlug {
    /// A new random slug.
    pub fn generate() -> Self {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut bytes = [0u8; LEN * 3 / 4];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A slug from a URL; `None` unless it has the shape of one.
    pub fn parse(value: &str) -> Option<Self> {
        let valid = value.len() == LEN
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(value.to_owned()))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database indexes.
    pub fn hash(&self) -> String {
        crate::auth::sha256_hex(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ShareSlug;

    #[test]
    fn slugs_are_random_url_safe_and_parse_back() {
        let a = ShareSlug::generate();
        assert_ne!(a, ShareSlug::generate());
        assert_eq!(a.as_str().len(), 24);
        assert_eq!(ShareSlug::parse(a.as_str()), Some(a));
        assert_eq!(ShareSlug::parse("short"), None);
        assert_eq!(ShareSlug::parse("../../../../etc/passwd/xx"), None);
    }
}
