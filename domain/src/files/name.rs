//! File and folder names: one rule for both, checked in the browser and on the server.

use serde::{Deserialize, Serialize};

use crate::AppError;

/// The longest name, in UTF-8 bytes (what common file systems allow).
pub const MAX_NAME_BYTES: usize = 255;

/// A valid file or folder name: no slashes, no control characters, not `.`/`..`, not blank,
/// at most [`MAX_NAME_BYTES`]; any other Unicode is kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileName(String);

impl FileName {
    /// Checks a name a person typed (rename, new folder); the error says what to change.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        let bad = |message: &str| Err(AppError::invalid("name", message));
        if name.is_empty() {
            return bad("Enter a name.");
        }
        if name == "." || name == ".." {
            return bad("`.` and `..` are not allowed as names.");
        }
        if name.contains(['/', '\\']) {
            return bad("Names cannot contain / or \\.");
        }
        if name.chars().any(char::is_control) {
            return bad("Names cannot contain control characters.");
        }
        if name.len() > MAX_NAME_BYTES {
            return bad("That name is too long (at most 255 bytes).");
        }
        Ok(Self(name.to_owned()))
    }

    /// Makes a valid name from an uploaded file's name: slashes and control characters become
    /// `_`, an over-long name is shortened keeping its extension, an empty one becomes `file`.
    pub fn sanitize(raw: &str) -> Self {
        let cleaned: String = raw
            .trim()
            .chars()
            .map(|c| if c.is_control() || c == '/' || c == '\\' { '_' } else { c })
            .collect();
        let cleaned = cleaned.trim();
        if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
            return Self("file".to_owned());
        }
        Self(shorten(cleaned, MAX_NAME_BYTES))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `report (1).pdf` for `report.pdf` and `n = 1`: the name to use when `self` is taken.
    pub fn numbered(&self, n: u32) -> Self {
        let (stem, ext) = self.split_extension();
        let suffix = format!(" ({n}){ext}");
        Self(format!("{}{suffix}", truncate(stem, MAX_NAME_BYTES - suffix.len())))
    }

    /// `("report", ".pdf")`; a leading dot (`.env`) is not an extension.
    fn split_extension(&self) -> (&str, &str) {
        match self.0.rfind('.') {
            Some(dot) if dot > 0 && self.0.len() - dot <= 16 => self.0.split_at(dot),
            _ => (&self.0, ""),
        }
    }
}

/// Shortens `name` to `max` bytes, keeping a short extension.
fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let whole = FileName(name.to_owned());
    let (stem, ext) = whole.split_extension();
    format!("{}{ext}", truncate(stem, max - ext.len()))
}

/// The longest prefix of `text` within `max` bytes, cut on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl TryFrom<String> for FileName {
    type Error = AppError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FileName> for String {
    fn from(name: FileName) -> Self {
        name.0
    }
}

impl std::fmt::Display for FileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_what_cannot_be_a_name() {
        for bad in ["", "  ", ".", "..", "a/b", "a\\b", "tab\there", &"x".repeat(256)] {
            assert!(FileName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            FileName::parse("  Ferien 2026 🏖.jpg ").map(String::from).ok().as_deref(),
            Some("Ferien 2026 🏖.jpg")
        );
    }

    #[test]
    fn sanitize_always_gives_a_valid_name() {
        assert_eq!(FileName::sanitize("../../etc/passwd").as_str(), ".._.._etc_passwd");
        assert_eq!(FileName::sanitize("a\u{0}b\nc").as_str(), "a_b_c");
        assert_eq!(FileName::sanitize("  ").as_str(), "file");
        let long = format!("{}.tar", "é".repeat(300));
        let short = FileName::sanitize(&long);
        assert!(short.as_str().len() <= MAX_NAME_BYTES && short.as_str().ends_with(".tar"));
        assert!(FileName::parse(short.as_str()).is_ok());
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        let name = FileName::sanitize("report.pdf");
        assert_eq!(name.numbered(1).as_str(), "report (1).pdf");
        assert_eq!(FileName::sanitize(".env").numbered(2).as_str(), ".env (2)");
        assert_eq!(FileName::sanitize("archive").numbered(3).as_str(), "archive (3)");
    }
}
