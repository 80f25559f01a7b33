//! File and folder names: one rule for both, checked in the browser and on the server.

use serde::{Deserialize, Serialize};

use crate::AppError;

/// The longest name, in UTF-8 bytes (what common file systems allow).
pub const MAX_NAME_BYTES: usize = 255;

/// A valid file or folder name: no slashes, no control characters, no invisible formatting
/// characters (bidirectional overrides and isolates, zero-width spaces — they make
/// `invoice\u{202E}fdp.exe` look like `invoiceexe.pdf`), not `.`/`..`, not blank, at most
/// [`MAX_NAME_BYTES`]; any other Unicode is kept as typed.
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
        if name.chars().any(is_invisible) {
            return bad(
                "Names cannot contain invisible formatting characters (such as right-to-left \
                 overrides); type the name again without them.",
            );
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
            .filter(|c| !is_invisible(*c))
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

    /// Whether this name is `base` or one of its numbered forms (`base (3).ext`).
    pub fn is_form_of(&self, base: &FileName) -> bool {
        if self == base {
            return true;
        }
        let (stem, ext) = base.split_extension();
        let numbered = self.0.strip_suffix(ext).and_then(|rest| rest.strip_suffix(')'));
        let Some((start, digits)) = numbered.and_then(|rest| rest.rsplit_once(" (")) else {
            return false;
        };
        !start.is_empty()
            && stem.starts_with(start)
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
    }

    /// The first of this name and its numbered forms that `taken` does not hold (`taken`
    /// should hold every name starting with [`Self::numbering_prefix`]).
    pub fn first_free(&self, taken: &std::collections::HashSet<String>) -> Option<Self> {
        (0..=u32::try_from(taken.len()).unwrap_or(u32::MAX))
            .map(|n| if n == 0 { self.clone() } else { self.numbered(n) })
            .find(|candidate| !taken.contains(candidate.as_str()))
    }

    /// A SQL `LIKE` pattern (escape `\\`) for every name starting as the numbered forms do.
    pub fn numbering_pattern(&self) -> String {
        let mut pattern: String = self
            .numbering_prefix()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        pattern.push('%');
        pattern
    }

    /// What every numbered form of this name starts with ([`Self::numbered`] may shorten the
    /// stem by the suffix's length, at most ` (4294967295)` plus the extension).
    pub fn numbering_prefix(&self) -> &str {
        let (stem, _) = self.split_extension();
        truncate(stem, MAX_NAME_BYTES - 16 - " (4294967295)".len())
    }

    /// `("report", ".pdf")`; a leading dot (`.env`) is not an extension.
    fn split_extension(&self) -> (&str, &str) {
        match self.0.rfind('.') {
            Some(dot) if dot > 0 && self.0.len() - dot <= 16 => self.0.split_at(dot),
            _ => (&self.0, ""),
        }
    }
}

/// Formatting characters that change how a name is displayed without being seen: the
/// bidirectional marks, embeddings, overrides and isolates, zero-width spaces, word joiners,
/// the byte-order mark. (The zero-width joiner and non-joiner stay: emoji and several scripts
/// need them, and they cannot reorder text.)
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
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
    fn invisible_formatting_characters_never_reach_a_name() {
        let spoof = "invoice\u{202E}fdp.exe";
        assert!(FileName::parse(spoof).is_err(), "a typed name with an override is refused");
        assert_eq!(FileName::sanitize(spoof).as_str(), "invoicefdp.exe", "an upload's is stripped");
        for hidden in ['\u{200B}', '\u{200F}', '\u{2066}', '\u{2069}', '\u{FEFF}', '\u{061C}'] {
            assert!(FileName::parse(&format!("a{hidden}b")).is_err(), "{hidden:?}");
            assert_eq!(FileName::sanitize(&format!("a{hidden}b")).as_str(), "ab");
        }
        assert!(FileName::parse("👨\u{200D}👩\u{200D}👧.jpg").is_ok(), "emoji joiners stay");
    }

    #[test]
    fn numbered_forms_are_recognised() {
        let base = FileName::sanitize("Photos");
        for form in ["Photos", "Photos (1)", "Photos (12)"] {
            assert!(FileName::sanitize(form).is_form_of(&base), "{form}");
        }
        for other in ["Photos 2", "Photos ()", "Photos (x)", "Phot", "(1)"] {
            assert!(!FileName::sanitize(other).is_form_of(&base), "{other}");
        }
        let report = FileName::sanitize("report.pdf");
        assert!(report.numbered(3).is_form_of(&report));
        let taken = ["report.pdf", "report (1).pdf"].map(String::from).into();
        assert_eq!(report.first_free(&taken).unwrap().as_str(), "report (2).pdf");
        assert_eq!(FileName::sanitize("50%_off").numbering_pattern(), "50\\%\\_off%");
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        let name = FileName::sanitize("report.pdf");
        assert_eq!(name.numbered(1).as_str(), "report (1).pdf");
        assert_eq!(FileName::sanitize(".env").numbered(2).as_str(), ".env (2)");
        assert_eq!(FileName::sanitize("archive").numbered(3).as_str(), "archive (3)");
    }
}
