//! The search language people already know from mail and code search: words (all must match,
//! as prefixes or anywhere inside a name), `"exact phrase"`, `-exclude`, and filters
//! `type:`, `ext:`, `size:`, `modified:`, `after:`, `before:`, `in:"folder"`.
//!
//! Parsing never fails on odd text: `*`, `(`, `NEAR`, `OR` and the like are just characters to
//! look for (the engines receive terms only as bound, quoted values, never as query syntax).
//! It fails — with a message that says what to write instead — only on what cannot mean
//! anything: an unclosed quote, a filter with an impossible value, a query too long.

use serde::{Deserialize, Serialize};

use crate::AppError;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 300;
/// The most words and phrases (included and excluded) in one query.
pub const MAX_TERMS: usize = 12;

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// Words and phrases that must all match (lowercase).
    pub terms: Vec<Term>,
    /// Words and phrases that must not match.
    pub excluded: Vec<Term>,
    /// `type:` — any of these kinds.
    pub kinds: Vec<Kind>,
    /// `ext:` — any of these extensions (lowercase, without the dot).
    pub extensions: Vec<String>,
    /// `size:>N` — at least this many bytes.
    pub min_size: Option<u64>,
    /// `size:<N` — at most this many bytes.
    pub max_size: Option<u64>,
    /// `after:`, `modified:` — modified on or after this day.
    pub modified_from: Option<Day>,
    /// `before:`, `modified:` — modified before this day.
    pub modified_before: Option<Day>,
    /// `in:` — below the folder of this name (its whole subtree).
    pub within: Option<String>,
    /// The filters as written, for chips that remove them.
    pub filters: Vec<Filter>,
}

/// One filter of a query as it was written, and the query without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// `type:pdf`, `in:"Holiday photos"`.
    pub label: String,
    /// The whole query without this filter.
    pub without: String,
}

/// A word (matched as a prefix or substring) or an exact phrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Term {
    /// One word, lowercase.
    Word(String),
    /// Words in this order, lowercase.
    Phrase(String),
}

impl Term {
    /// The text to look for.
    pub fn text(&self) -> &str {
        match self {
            Self::Word(text) | Self::Phrase(text) => text,
        }
    }
}

/// What `type:` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// `image/…`
    Image,
    /// `video/…`
    Video,
    /// `audio/…`
    Audio,
    /// PDF documents.
    Pdf,
    /// `text/…`, JSON, XML and the like.
    Text,
    /// Zip, tar, gzip, 7-Zip, RAR, …
    Archive,
}

impl Kind {
    const ALL: [(&'static str, Self); 6] = [
        ("image", Self::Image),
        ("video", Self::Video),
        ("audio", Self::Audio),
        ("pdf", Self::Pdf),
        ("text", Self::Text),
        ("archive", Self::Archive),
    ];

    /// The name used in queries.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, kind)| *kind == self).map_or("", |(name, _)| name)
    }

    /// Whether a file of `content_type` is of this kind.
    pub fn matches(self, content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match self {
            Self::Image => essence.starts_with("image/"),
            Self::Video => essence.starts_with("video/"),
            Self::Audio => essence.starts_with("audio/"),
            Self::Pdf => essence == "application/pdf",
            Self::Text => {
                essence.starts_with("text/")
                    || matches!(essence, "application/json" | "application/xml")
            }
            Self::Archive => ARCHIVES.contains(&essence),
        }
    }
}

/// The content types `type:archive` finds.
pub const ARCHIVES: [&str; 8] = [
    "application/zip",
    "application/x-tar",
    "application/gzip",
    "application/x-gzip",
    "application/x-7z-compressed",
    "application/vnd.rar",
    "application/x-rar-compressed",
    "application/x-bzip2",
];

/// A calendar day (proleptic Gregorian), as filters name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Day {
    /// e.g. 2026
    pub year: i32,
    /// 1–12
    pub month: u32,
    /// 1–31
    pub day: u32,
}

impl Day {
    fn days_in_month(year: i32, month: u32) -> u32 {
        match month {
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    fn next(self) -> Self {
        if self.day < Self::days_in_month(self.year, self.month) {
            Self { day: self.day + 1, ..self }
        } else if self.month < 12 {
            Self { month: self.month + 1, day: 1, ..self }
        } else {
            Self { year: self.year + 1, month: 1, day: 1 }
        }
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Query {
    /// Whether it asks for nothing (an empty box).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether folders can match it: it has words, and no filter only files have (type,
    /// extension, size, date).
    pub fn finds_folders(&self) -> bool {
        !self.terms.is_empty()
            && self.kinds.is_empty()
            && self.extensions.is_empty()
            && self.min_size.is_none()
            && self.max_size.is_none()
            && self.modified_from.is_none()
            && self.modified_before.is_none()
    }
}

/// Parses what someone typed. Bad input → 400 `bad_request`, saying what to write instead.
pub fn parse(input: &str) -> Result<Query, AppError> {
    let bad = AppError::BadRequest;
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(format!("A search can be at most {MAX_QUERY_CHARS} characters.")));
    }
    // Control and bidi characters mean nothing here: spaces.
    let cleaned: String =
        input.chars().map(|c| if c.is_control() || is_bidi(c) { ' ' } else { c }).collect();
    let mut query = Query::default();
    let mut rest = cleaned.trim_start();
    while !rest.is_empty() {
        let start = cleaned.len() - rest.len();
        let negated = rest.starts_with('-') && rest.len() > 1 && !rest[1..].starts_with(' ');
        if negated {
            rest = &rest[1..];
        }
        let (token, after) = next_token(rest).map_err(bad)?;
        let end = cleaned.len() - after.len();
        rest = after.trim_start();
        match token {
            Token::Phrase(text) => {
                let text = words_of(&text);
                if !text.is_empty() {
                    push(&mut query, negated, Term::Phrase(text));
                }
            }
            Token::Filter(key, value) => {
                if negated {
                    return Err(bad(format!("`{key}:` cannot be excluded with `-`.")));
                }
                apply_filter(&mut query, key, &value).map_err(bad)?;
                let label = if value.contains(' ') {
                    format!("{key}:\"{value}\"")
                } else {
                    format!("{key}:{value}")
                };
                let without = format!("{} {}", &cleaned[..start], &cleaned[end..]);
                let without = without.split_whitespace().collect::<Vec<_>>().join(" ");
                query.filters.push(Filter { label, without });
            }
            Token::Word(text) => {
                let text = text.to_lowercase();
                if !text.is_empty() {
                    push(&mut query, negated, Term::Word(text));
                }
            }
        }
        if query.terms.len() + query.excluded.len() > MAX_TERMS {
            return Err(bad(format!("A search can have at most {MAX_TERMS} words.")));
        }
    }
    if query.terms.is_empty() && !query.excluded.is_empty() && query == only_excluded(&query) {
        return Err(bad("Say what to look for, not only what to leave out.".into()));
    }
    Ok(query)
}

fn only_excluded(query: &Query) -> Query {
    Query { excluded: query.excluded.clone(), filters: query.filters.clone(), ..Query::default() }
}

fn push(query: &mut Query, negated: bool, term: Term) {
    let list = if negated { &mut query.excluded } else { &mut query.terms };
    if !list.contains(&term) {
        list.push(term);
    }
}

enum Token<'a> {
    Word(String),
    Phrase(String),
    Filter(&'a str, String),
}

const FILTERS: [&str; 7] = ["type", "ext", "size", "modified", "after", "before", "in"];

/// The next token of `input` (which starts with one) and what follows it.
fn next_token(input: &str) -> Result<(Token<'_>, &str), String> {
    if let Some(quoted) = input.strip_prefix('"') {
        let (text, after) = closing_quote(quoted)?;
        return Ok((Token::Phrase(text.to_owned()), after));
    }
    if let Some((key, value)) = input.split_once(':')
        && let Some(key) = FILTERS.iter().find(|k| k.eq_ignore_ascii_case(key))
    {
        if let Some(quoted) = value.strip_prefix('"') {
            let (text, after) = closing_quote(quoted)?;
            return Ok((Token::Filter(key, text.trim().to_owned()), after));
        }
        let end = value.find(' ').unwrap_or(value.len());
        return Ok((Token::Filter(key, value[..end].to_owned()), &value[end..]));
    }
    let end = input.find([' ', '"']).unwrap_or(input.len());
    Ok((Token::Word(input[..end].to_owned()), &input[end..]))
}

fn closing_quote(quoted: &str) -> Result<(&str, &str), String> {
    match quoted.find('"') {
        Some(end) => Ok((&quoted[..end], &quoted[end + 1..])),
        None => Err("A quote is not closed: add the closing \".".into()),
    }
}

/// A phrase's words, lowercase, single-spaced.
fn words_of(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn apply_filter(query: &mut Query, key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("`{key}:` needs a value, e.g. {}.", example(key)));
    }
    match key {
        "type" => {
            for name in value.split([',', '|']) {
                let kind = Kind::ALL
                    .iter()
                    .find(|(known, _)| known.eq_ignore_ascii_case(name))
                    .map(|(_, kind)| *kind)
                    .ok_or_else(|| {
                        format!("`type:` is one of image, video, audio, pdf, text, archive — not \"{name}\".")
                    })?;
                if !query.kinds.contains(&kind) {
                    query.kinds.push(kind);
                }
            }
        }
        "ext" => {
            for ext in value.split([',', '|']) {
                let ext = ext.trim_start_matches('.').to_lowercase();
                if ext.is_empty() || ext.len() > 16 || !ext.chars().all(char::is_alphanumeric) {
                    return Err(format!(
                        "`ext:` is an extension such as pdf or jpg — not \"{ext}\"."
                    ));
                }
                if !query.extensions.contains(&ext) {
                    query.extensions.push(ext);
                }
            }
        }
        "size" => {
            let bad = || format!("`size:` is like >10MB, <1.5GB or 200KB — not \"{value}\".");
            let (at_least, amount) = match value.as_bytes().first() {
                Some(b'>') => (true, &value[1..]),
                Some(b'<') => (false, &value[1..]),
                _ => (true, value),
            };
            let amount = amount.trim_start_matches('=');
            let bytes = parse_size(amount).ok_or_else(bad)?;
            if at_least { query.min_size = Some(bytes) } else { query.max_size = Some(bytes) }
        }
        "modified" => {
            let (from, before) = parse_period(value).ok_or_else(|| {
                format!("`modified:` is a year, month or day like 2026, 2026-11 or 2026-11-29 — not \"{value}\".")
            })?;
            query.modified_from = Some(from);
            query.modified_before = Some(before);
        }
        "after" | "before" => {
            let bad = || format!("`{key}:` is a day like 2026-11-29 — not \"{value}\".");
            let (from, _) = parse_period(value).ok_or_else(bad)?;
            // after:2026-11 — from its first day on; before:2026-11 — until its first day.
            if key == "after" {
                query.modified_from = Some(from);
            } else {
                query.modified_before = Some(from);
            }
        }
        _ => query.within = Some(value.to_owned()),
    }
    Ok(())
}

fn example(key: &str) -> &'static str {
    match key {
        "type" => "type:image",
        "ext" => "ext:pdf",
        "size" => "size:>10MB",
        "modified" => "modified:2026-11",
        "after" => "after:2026-11-01",
        "before" => "before:2026-12-01",
        _ => "in:\"Holiday photos\"",
    }
}

/// `10MB`, `1.5GB`, `200kb`, `12` (bytes), `3KiB`: decimal units by their SI names, binary by
/// the IEC ones.
fn parse_size(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * scale;
    // Beyond 2^63 nothing is stored: a filter that large is a mistake.
    (bytes < 9.2e18).then_some(bytes as u64)
}

/// `2026` → that year; `2026-11` → that month; `2026-11-29` → that day: (first day, the day
/// after the last).
fn parse_period(text: &str) -> Option<(Day, Day)> {
    fn number<T: std::str::FromStr>(part: &str, digits: usize) -> Option<T> {
        let all_digits = part.len() == digits && part.chars().all(|c| c.is_ascii_digit());
        all_digits.then(|| part.parse().ok()).flatten()
    }
    let parts: Vec<&str> = text.split('-').collect();
    let year: i32 = number(parts.first()?, 4)?;
    match parts.as_slice() {
        [_] => Some((Day { year, month: 1, day: 1 }, Day { year: year + 1, month: 1, day: 1 })),
        [_, month] => {
            let month: u32 = number(month, 2)?;
            if !(1..=12).contains(&month) {
                return None;
            }
            let first = Day { year, month, day: 1 };
            let last = Day { day: Day::days_in_month(year, month), ..first };
            Some((first, last.next()))
        }
        [_, month, day] => {
            let (month, day): (u32, u32) = (number(month, 2)?, number(day, 2)?);
            if !(1..=12).contains(&month) || day == 0 || day > Day::days_in_month(year, month) {
                return None;
            }
            let day = Day { year, month, day };
            Some((day, day.next()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<Term> {
        list.iter().map(|w| Term::Word((*w).to_owned())).collect()
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let query = parse("  Invoice \"Annual Report\"  -draft -\"old copy\" invoice").unwrap();
        assert_eq!(
            query.terms,
            [words(&["invoice"]), vec![Term::Phrase("annual report".into())]].concat()
        );
        assert_eq!(
            query.excluded,
            [words(&["draft"]), vec![Term::Phrase("old copy".into())]].concat()
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse("   \u{202E}\t").unwrap().is_empty(), "bidi and controls are spaces");
    }

    #[test]
    fn syntax_of_other_engines_is_just_text() {
        for odd in ["a*", "(report", "x NEAR y", "a OR b", "^start", "col:umn", "-", "'", "\\"] {
            let query = parse(odd).unwrap_or_else(|e| panic!("{odd}: {e}"));
            assert!(!query.terms.is_empty(), "{odd}");
        }
        assert_eq!(parse("re:meeting").unwrap().terms, words(&["re:meeting"]), "not a filter");
        assert_eq!(parse("-").unwrap().terms, words(&["-"]));
    }

    #[test]
    fn filters() {
        let query =
            parse("type:image,pdf ext:.JPG size:>10MB modified:2026-02 in:\"Holiday photos\" x")
                .unwrap();
        assert_eq!(query.kinds, [Kind::Image, Kind::Pdf]);
        assert_eq!(query.extensions, ["jpg"]);
        assert_eq!(query.min_size, Some(10_000_000));
        assert_eq!(query.modified_from.map(Day::iso).as_deref(), Some("2026-02-01"));
        assert_eq!(query.modified_before.map(Day::iso).as_deref(), Some("2026-03-01"));
        assert_eq!(query.within.as_deref(), Some("Holiday photos"));
        assert_eq!(query.terms, words(&["x"]));

        let query = parse("size:<1.5GiB after:2024-12-31 before:2025-01-02 Type:Archive").unwrap();
        assert_eq!(query.max_size, Some(1_610_612_736));
        assert_eq!(query.modified_from.map(Day::iso).as_deref(), Some("2024-12-31"));
        assert_eq!(query.modified_before.map(Day::iso).as_deref(), Some("2025-01-02"));
        assert_eq!(query.kinds, [Kind::Archive]);
        let leap = parse("modified:2028-02-29").unwrap();
        assert_eq!(leap.modified_before.map(Day::iso).as_deref(), Some("2028-03-01"));
        assert_eq!(
            parse("modified:2026").unwrap().modified_before.map(Day::iso).as_deref(),
            Some("2027-01-01")
        );
        assert!(parse("type:image").unwrap().terms.is_empty(), "a filter alone is a search");
        let chips: Vec<(String, String)> = parse("report  type:pdf in:\"My docs\" -draft")
            .unwrap()
            .filters
            .into_iter()
            .map(|f| (f.label, f.without))
            .collect();
        assert_eq!(
            chips,
            [
                ("type:pdf".into(), "report in:\"My docs\" -draft".into()),
                ("in:\"My docs\"".into(), "report type:pdf -draft".into()),
            ]
        );
    }

    #[test]
    fn bad_input_says_what_to_write() {
        let cases = [
            ("\"unclosed", "quote is not closed"),
            ("type:movie", "one of image"),
            ("size:>lots", "size:"),
            ("size:>1e30", "size:"),
            ("size:>99999999999TB", "size:"),
            ("modified:2026-13", "modified:"),
            ("modified:2026-02-30", "modified:"),
            ("after:yesterday", "after:"),
            ("ext:../../etc", "ext:"),
            ("type:", "needs a value"),
            ("in:\"x", "quote is not closed"),
            ("-type:image report", "cannot be excluded"),
            ("-draft", "not only what to leave out"),
        ];
        for (input, expected) in cases {
            let Err(AppError::BadRequest(message)) = parse(input) else {
                panic!("{input} should be refused");
            };
            assert!(message.contains(expected), "{input}: {message}");
        }
        let long = "a ".repeat(10_000);
        assert!(parse(&long).unwrap_err().to_string().contains("at most"));
        let many = (0..20).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert!(parse(&many).unwrap_err().to_string().contains("at most"));
    }

    #[test]
    fn kinds_match_content_types() {
        assert!(Kind::Image.matches("image/png"));
        assert!(Kind::Text.matches("text/markdown; charset=utf-8"));
        assert!(Kind::Archive.matches("application/zip"));
        assert!(!Kind::Pdf.matches("application/zip"));
        assert_eq!(Kind::Video.name(), "video");
    }
}
