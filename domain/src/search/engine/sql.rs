//! The statements a search runs, written for the engine at hand — the only engine-specific
//! SQL of search: SQLite FTS5 trigram, PostgreSQL `pg_trgm` over `pannier_fold` and `tsvector`
//! (see the `m20261130_000009_search` and `m20261130_000010_file_texts` migrations). Every term
//! reaches the database as a bound value, never as query syntax.

use sea_orm::{DbBackend, Value};
use uuid::Uuid;

use super::Scope;
use crate::AppError;
use crate::search::extract::{MARK_END, MARK_START};
use crate::search::query::{Day, Kind, Query, Term};

/// How many of an account's newest files a query of only one- or two-character words reads.
const SHORT_WORDS_READ: u64 = 20_000;

/// Which files one statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Those whose names hold every word.
    Names,
    /// Those matching by description or text only.
    Others,
    /// Every match (a query of filters only: there is no name to rank by).
    All,
}

impl Phase {
    /// Where a page starts: `cursor` from the previous page (`n20`: the 21st name match).
    pub(super) fn of_cursor(cursor: Option<&str>, ranked: bool) -> Result<(Self, u64), AppError> {
        let first = if ranked { Self::Names } else { Self::All };
        let Some(cursor) = cursor.filter(|cursor| !cursor.is_empty()) else {
            return Ok((first, 0));
        };
        let (phase, offset) = cursor.split_at_checked(1).unwrap_or_default();
        let phase = match (phase, ranked) {
            ("n", true) => Some(Self::Names),
            ("o", true) => Some(Self::Others),
            ("a", false) => Some(Self::All),
            _ => None,
        };
        let offset = offset.parse().ok().filter(|offset| *offset <= 10_000);
        match (phase, offset) {
            (Some(phase), Some(offset)) => Ok((phase, offset)),
            _ => Err(AppError::BadRequest(
                "This cursor is not one a search gave: start again without it.".into(),
            )),
        }
    }

    pub(super) fn cursor(self, offset: u64) -> String {
        let phase = match self {
            Self::Names => 'n',
            Self::Others => 'o',
            Self::All => 'a',
        };
        format!("{phase}{offset}")
    }
}

/// A statement being written, with its bound values in order.
pub(super) struct Sql {
    pub(super) backend: DbBackend,
    pub(super) text: String,
    pub(super) values: Vec<Value>,
}

impl Sql {
    pub(super) fn new(backend: DbBackend) -> Self {
        Self { backend, text: String::new(), values: Vec::new() }
    }

    fn postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// A placeholder for `value`.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        // Numbered, so a value can be used twice (SQLite reads `?N` as `$N` does PostgreSQL).
        if self.postgres() {
            format!("${}", self.values.len())
        } else {
            format!("?{}", self.values.len())
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// The `SELECT` of `limit` files of `phase` from `offset`, newest first.
    pub(super) fn select(
        &mut self,
        scope: Scope,
        query: &Query,
        within: Option<&[Uuid]>,
        phase: Phase,
        limit: u64,
        offset: u64,
    ) {
        let sqlite = !self.postgres();
        let indexed = move |term: &&Term| sqlite && has_trigram(term);
        let driving: Vec<&Term> = query.terms.iter().filter(indexed).collect();
        let owner = self.bind(scope.owner);
        let order = if driving.is_empty() {
            // PostgreSQL (its trigram indexes serve each LIKE, or its index by owner and age
            // reads newest first), or only short words on SQLite: the account's rows, newest
            // first, each condition in turn. Words of one or two characters alone have no
            // trigram to look up: they look among the newest files only (as-you-type's first
            // keystrokes; the third reaches everything).
            let short_only = !query.terms.is_empty() && !query.terms.iter().any(has_trigram);
            let files = if short_only {
                let newest = self.bind(SHORT_WORDS_READ as i64);
                format!(
                    "(SELECT * FROM files WHERE owner_id = {owner} \
                     ORDER BY created_at DESC, id DESC LIMIT {newest}) f"
                )
            } else {
                "files f".to_owned()
            };
            if sqlite {
                self.push(&format!(
                    "SELECT f.* FROM {files} CROSS JOIN search_rows r ON r.file_id = f.id"
                ));
            } else {
                self.push(&format!("SELECT f.* FROM {files}"));
            }
            self.push(&format!(" WHERE f.owner_id = {owner}"));
            // (The names phase asks for each word in the name below, which implies this.)
            for term in query.terms.iter().filter(|_| phase != Phase::Names) {
                let matches = self.matches(term, Field::Either);
                self.push(&format!(" AND {matches}"));
            }
            "f.created_at DESC, f.id DESC"
        } else {
            // SQLite: the FTS index finds the candidates (every long word — in the name only,
            // for the names phase — and none of the long exclusions, in one MATCH), newest
            // first; the files table only filters them. CROSS JOIN keeps that order: left to
            // the planner, it walked the account's files and ran the MATCH once per file (over
            // 30 s at 100,000 files), and no sort is needed, so a page stops reading once full.
            let all = driving
                .iter()
                .map(|term| fts_string(term.text()))
                .collect::<Vec<_>>()
                .join(" AND ");
            let mut expression = match phase {
                Phase::Names => format!("{{name}} : ({all})"),
                Phase::Others | Phase::All => format!("({all})"),
            };
            for term in query.excluded.iter().filter(|term| indexed(term)) {
                expression.push_str(" NOT ");
                expression.push_str(&fts_string(term.text()));
            }
            let expression = self.bind(expression);
            self.push(&format!(
                "SELECT f.* FROM search_fts CROSS JOIN search_rows r ON r.row = search_fts.rowid \
                 CROSS JOIN files f ON f.id = r.file_id \
                 WHERE search_fts MATCH {expression} AND f.owner_id = {owner}"
            ));
            let short = query.terms.iter().filter(|term| !indexed(term));
            for term in short.filter(|_| phase != Phase::Names) {
                let matches = self.matches(term, Field::Either);
                self.push(&format!(" AND {matches}"));
            }
            "search_fts.rowid DESC"
        };
        let excluded: Vec<&Term> = if driving.is_empty() {
            query.excluded.iter().collect()
        } else {
            query.excluded.iter().filter(|term| !indexed(term)).collect()
        };
        for term in excluded {
            let matches = self.matches(term, Field::Either);
            self.push(&format!(" AND NOT {matches}"));
        }
        // The phases split the matches by one condition, so none is in both or in neither.
        match phase {
            Phase::Names => {
                // The long words are in the MATCH, in the name column, already.
                let short: Vec<&Term> = query.terms.iter().filter(|t| !indexed(t)).collect();
                for term in short {
                    let in_name = self.matches(term, Field::Name);
                    self.push(&format!(" AND {in_name}"));
                }
            }
            Phase::Others => {
                let in_name: Vec<String> =
                    query.terms.iter().map(|term| self.matches(term, Field::Name)).collect();
                self.push(&format!(" AND NOT ({})", in_name.join(" AND ")));
                if !sqlite {
                    // A file here has a word outside its name: its description's and texts'
                    // indexes find the candidates (walking the account instead folds every
                    // name and description on the way: 100 ms at 20,000 files).
                    let owner = owner.clone();
                    let candidates: Vec<String> =
                        query.terms.iter().map(|term| self.outside_name(&owner, term)).collect();
                    self.push(&format!(" AND f.id IN ({})", candidates.join(" UNION ")));
                }
            }
            Phase::All => {}
        }
        self.filters(query, within);
        if let Some(share) = scope.share {
            let share = self.bind(share);
            self.push(&format!(
                " AND f.id IN (SELECT file_id FROM share_files WHERE share_id = {share})"
            ));
        }
        let (limit, offset) = (self.bind(limit as i64), self.bind(offset as i64));
        self.push(&format!(" ORDER BY {order} LIMIT {limit} OFFSET {offset}"));
    }

    /// PostgreSQL: the ids of `owner`'s files with `term` in their description or text.
    fn outside_name(&mut self, owner: &str, term: &Term) -> String {
        let pattern = self.bind(format!("%{}%", escape_like(term.text())));
        let mut ids = format!(
            "SELECT d.id FROM files d WHERE d.owner_id = {owner} AND d.description IS NOT NULL \
             AND pannier_fold(coalesce(d.description, '')) LIKE pannier_fold({pattern}) ESCAPE '\\'"
        );
        if let Some(words) = ts_query(term) {
            let words = self.bind(words);
            ids.push_str(&format!(
                " UNION SELECT t.file_id FROM file_texts t \
                 WHERE t.tsv @@ to_tsquery('simple', pannier_fold({words}))"
            ));
        }
        ids
    }

    /// A condition: `term` is in the file's name (or its description too).
    fn matches(&mut self, term: &Term, field: Field) -> String {
        let text = term.text();
        if self.postgres() {
            let pattern = self.bind(format!("%{}%", escape_like(text)));
            let name = format!("pannier_fold(f.name) LIKE pannier_fold({pattern}) ESCAPE '\\'");
            if matches!(field, Field::Name) {
                return name;
            }
            let description = format!(
                "pannier_fold(coalesce(f.description, '')) LIKE pannier_fold({pattern}) ESCAPE '\\'"
            );
            let Some(words) = ts_query(term) else { return format!("({name} OR {description})") };
            let words = self.bind(words);
            return format!(
                "({name} OR {description} OR f.id IN (SELECT t.file_id FROM file_texts t \
                 WHERE t.tsv @@ to_tsquery('simple', pannier_fold({words}))))"
            );
        }
        if has_trigram(term) {
            let expression = match field {
                Field::Name => format!("{{name}} : {}", fts_string(text)),
                Field::Either => fts_string(text),
            };
            let expression = self.bind(expression);
            return format!(
                "r.row IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {expression})"
            );
        }
        // Shorter than a trigram (scanned: only this account's rows): LIKE, ASCII case folded.
        let pattern = self.bind(format!("%{}%", escape_like(text)));
        let name = format!("f.name LIKE {pattern} ESCAPE '\\'");
        match field {
            Field::Name => name,
            Field::Either => {
                format!("({name} OR coalesce(f.description, '') LIKE {pattern} ESCAPE '\\')")
            }
        }
    }

    /// The statement for the snippets of the files `ids` (`id`, `snippet`), if `query` has
    /// words their texts can match.
    pub(super) fn snippets(&mut self, query: &Query, ids: &[Uuid]) -> bool {
        let list =
            |sql: &mut Self| ids.iter().map(|id| sql.bind(*id)).collect::<Vec<_>>().join(", ");
        if self.postgres() {
            let words: Vec<String> = query.terms.iter().filter_map(ts_query).collect();
            if words.is_empty() {
                return false;
            }
            let words = self.bind(format!("({})", words.join(") | (")));
            let options = self.bind(format!(
                "StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=20, MinWords=8, \
                 MaxFragments=2, FragmentDelimiter=\" … \""
            ));
            let ids = list(self);
            self.push(&format!(
                "SELECT t.file_id AS id, ts_headline('simple', t.body, q.words, {options}) AS snippet \
                 FROM file_texts t, (SELECT to_tsquery('simple', pannier_fold({words})) AS words) q \
                 WHERE t.file_id IN ({ids}) AND t.tsv @@ q.words"
            ));
            return true;
        }
        let words: Vec<String> = query
            .terms
            .iter()
            .filter(|term| has_trigram(term))
            .map(|term| fts_string(term.text()))
            .collect();
        if words.is_empty() {
            return false;
        }
        let words = self.bind(words.join(" OR "));
        let (start, end) = (self.bind(MARK_START.to_string()), self.bind(MARK_END.to_string()));
        let ids = list(self);
        self.push(&format!(
            "SELECT r.file_id AS id, snippet(search_fts, 2, {start}, {end}, '…', 40) AS snippet \
             FROM search_fts CROSS JOIN search_rows r ON r.row = search_fts.rowid \
             WHERE search_fts MATCH {words} \
             AND search_fts.rowid IN (SELECT row FROM search_rows WHERE file_id IN ({ids}))"
        ));
        true
    }

    fn filters(&mut self, query: &Query, within: Option<&[Uuid]>) {
        if !query.kinds.is_empty() {
            let kinds: Vec<String> = query.kinds.iter().map(|kind| self.kind(*kind)).collect();
            self.push(&format!(" AND ({})", kinds.join(" OR ")));
        }
        if !query.extensions.is_empty() {
            let extensions: Vec<String> = query
                .extensions
                .iter()
                .map(|ext| {
                    let pattern = self.bind(format!("%.{}", escape_like(ext)));
                    format!("lower(f.name) LIKE {pattern} ESCAPE '\\'")
                })
                .collect();
            self.push(&format!(" AND ({})", extensions.join(" OR ")));
        }
        if let Some(min) = query.min_size {
            let min = self.bind(i64::try_from(min).unwrap_or(i64::MAX));
            self.push(&format!(" AND f.size >= {min}"));
        }
        if let Some(max) = query.max_size {
            let max = self.bind(i64::try_from(max).unwrap_or(i64::MAX));
            self.push(&format!(" AND f.size <= {max}"));
        }
        if let Some(from) = query.modified_from.and_then(start_of) {
            let from = self.bind(from);
            self.push(&format!(" AND f.updated_at >= {from}"));
        }
        if let Some(before) = query.modified_before.and_then(start_of) {
            let before = self.bind(before);
            self.push(&format!(" AND f.updated_at < {before}"));
        }
        if let Some(folders) = within {
            let ids: Vec<String> = folders.iter().map(|id| self.bind(*id)).collect();
            self.push(&format!(" AND f.folder_id IN ({})", ids.join(", ")));
        }
    }

    fn kind(&mut self, kind: Kind) -> String {
        let exact = |sql: &mut Self, types: &[&str]| {
            let list: Vec<String> = types.iter().map(|t| sql.bind((*t).to_owned())).collect();
            format!("f.content_type IN ({})", list.join(", "))
        };
        match kind {
            Kind::Image => "f.content_type LIKE 'image/%'".into(),
            Kind::Video => "f.content_type LIKE 'video/%'".into(),
            Kind::Audio => "f.content_type LIKE 'audio/%'".into(),
            Kind::Pdf => exact(self, &["application/pdf"]),
            Kind::Text => format!(
                "(f.content_type LIKE 'text/%' OR {})",
                exact(self, &["application/json", "application/xml"])
            ),
            Kind::Archive => exact(self, &crate::search::query::ARCHIVES),
        }
    }
}

#[derive(Clone, Copy)]
enum Field {
    Name,
    Either,
}

/// A PostgreSQL `tsquery` of the words of `term` (letters and digits; a word's last one also
/// as a prefix, as people type), for `to_tsquery` after folding: built only of quoted words,
/// so nothing the visitor typed is read as query syntax. `None` for a term without words.
pub(super) fn ts_query(term: &Term) -> Option<String> {
    let words: Vec<String> = term
        .text()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("'{word}'"))
        .collect();
    let mut query = words.join(" <-> ");
    if query.is_empty() {
        return None;
    }
    if matches!(term, Term::Word(_)) {
        query.push_str(":*");
    }
    Some(query)
}

/// Whether `term` is long enough for a trigram index to look it up (three characters).
fn has_trigram(term: &Term) -> bool {
    term.text().chars().nth(2).is_some()
}

/// An FTS5 string: matched as a substring by the trigram tokenizer, never as syntax.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Midnight UTC at the start of `day` (`None` for a day chrono cannot hold).
fn start_of(day: Day) -> Option<chrono::DateTime<chrono::Utc>> {
    let date = chrono::NaiveDate::from_ymd_opt(day.year, day.month, day.day)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}
