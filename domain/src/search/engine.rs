//! Runs a parsed [`Query`] over one account's files: the engine-specific SQL lives here and
//! only here (SQLite FTS5 trigram, PostgreSQL `pg_trgm` over `pannier_fold`; see the
//! `m20261130_000009_search` migration). Every term reaches the database as a bound value,
//! never as query syntax.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};
use uuid::Uuid;

use super::extract::{MARK_END, MARK_START};
use super::query::{Day, Kind, Query, Term};
use super::{SearchHit, SearchPage, SnippetPart};
use crate::AppError;
use crate::entities::{files, folders, users};
use crate::state::AppState;

/// The most results one page holds.
pub const MAX_LIMIT: u64 = 50;
/// How many of an account's newest files a query of only one- or two-character words reads.
pub const SHORT_WORDS_READ: u64 = 20_000;

/// Whose files a search looks at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    /// The account.
    pub owner: Uuid,
    /// Only this folder and all below it (a shared folder).
    pub below: Option<Uuid>,
    /// Only the files of this link (a link to chosen files).
    pub share: Option<Uuid>,
}

/// Files found, in order, each with the snippet of its text that matched (if any).
pub(crate) struct Found {
    pub files: Vec<(files::Model, Vec<SnippetPart>)>,
    pub next_cursor: Option<String>,
}

/// Page `cursor` (an offset, from the previous page) of `owner`'s files matching `query`,
/// names matching first, then the most recently changed.
pub async fn search(
    state: &AppState,
    owner: &users::Model,
    query: &Query,
    limit: u64,
    cursor: Option<&str>,
) -> Result<SearchPage, AppError> {
    let scope = Scope { owner: owner.id, below: None, share: None };
    state
        .read(Some(owner.id), |state| async move {
            let found = find(&state.db, scope, query, limit, cursor).await?;
            let folders: Vec<Uuid> = found.files.iter().map(|(file, _)| file.folder_id).collect();
            let paths = folder_paths(&state.db, folders).await?;
            let models: Vec<files::Model> =
                found.files.iter().map(|(file, _)| file.clone()).collect();
            let dtos = crate::files::file_dtos(&state.db, &models).await?;
            let hits = found
                .files
                .into_iter()
                .zip(dtos)
                .map(|((model, snippet), file)| SearchHit {
                    path: paths.get(&model.folder_id).cloned().unwrap_or_else(|| "/".into()),
                    file,
                    snippet,
                })
                .collect();
            Ok(SearchPage { hits, next_cursor: found.next_cursor })
        })
        .await
}

/// One page of the files in `scope` matching `query` (on whichever connection `db` is).
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    scope: Scope,
    query: &Query,
    limit: u64,
    cursor: Option<&str>,
) -> Result<Found, AppError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let ranked = !query.terms.is_empty();
    let (mut phase, mut offset) = Phase::of_cursor(cursor, ranked)?;
    if query.is_empty() {
        return Ok(Found { files: Vec::new(), next_cursor: None });
    }
    let mut within = match scope.below {
        Some(top) => Some(crate::files::subtree(db, top).await?.0),
        None => None,
    };
    if let Some(name) = &query.within {
        let named = folders_named(db, scope.owner, name).await?;
        within = Some(match within {
            Some(below) => named.into_iter().filter(|id| below.contains(id)).collect(),
            None => named,
        });
    }
    if within.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Found { files: Vec::new(), next_cursor: None });
    }
    // Names holding every word first, then the rest: each phase read newest first, in the
    // order its index keeps, so a page stops reading once it is full.
    let mut found: Vec<files::Model> = Vec::new();
    let next_cursor = loop {
        let wanted = limit - found.len() as u64;
        let mut sql = Sql::new(db.get_database_backend());
        sql.select(scope, query, within.as_deref(), phase, wanted + 1, offset);
        let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
        let mut rows = files::Entity::find().from_raw_sql(statement).all(db).await?;
        if rows.len() as u64 > wanted {
            rows.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
            found.extend(rows);
            break Some(phase.cursor(offset + wanted));
        }
        found.extend(rows);
        match phase {
            Phase::Names => (phase, offset) = (Phase::Others, 0),
            Phase::Others | Phase::All => break None,
        }
    };
    let ids: Vec<Uuid> = found.iter().map(|file| file.id).collect();
    let mut snippets = snippets(db, query, &ids).await?;
    let files = found
        .into_iter()
        .map(|file| {
            let snippet = snippets.remove(&file.id).unwrap_or_default();
            (file, snippet)
        })
        .collect();
    Ok(Found { files, next_cursor })
}

/// Which files one statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Those whose names hold every word.
    Names,
    /// Those matching by description or text only.
    Others,
    /// Every match (a query of filters only: there is no name to rank by).
    All,
}

impl Phase {
    /// Where a page starts: `cursor` from the previous page (`n20`: the 21st name match).
    fn of_cursor(cursor: Option<&str>, ranked: bool) -> Result<(Self, u64), AppError> {
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

    fn cursor(self, offset: u64) -> String {
        let phase = match self {
            Self::Names => 'n',
            Self::Others => 'o',
            Self::All => 'a',
        };
        format!("{phase}{offset}")
    }
}

/// The snippets of the files' texts where `query`'s words are, by file (none for a file whose
/// text did not match).
async fn snippets(
    db: &impl ConnectionTrait,
    query: &Query,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<SnippetPart>>, AppError> {
    let mut sql = Sql::new(db.get_database_backend());
    if ids.is_empty() || !sql.snippets(query, ids) {
        return Ok(HashMap::new());
    }
    let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
    let mut snippets = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        let id: Uuid = row.try_get("", "id")?;
        // No text (a file without any has a NULL column): no snippet.
        let marked: Option<String> = row.try_get("", "snippet")?;
        let parts = snippet_parts(marked.as_deref().unwrap_or_default());
        if parts.iter().any(|part| part.hit) {
            snippets.insert(id, parts);
        }
    }
    Ok(snippets)
}

/// A snippet with its matches marked, as parts.
fn snippet_parts(marked: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut rest = marked;
    while !rest.is_empty() {
        let Some(start) = rest.find(MARK_START) else {
            parts.push(SnippetPart { text: rest.to_owned(), hit: false });
            break;
        };
        if start > 0 {
            parts.push(SnippetPart { text: rest[..start].to_owned(), hit: false });
        }
        let after = &rest[start + MARK_START.len_utf8()..];
        let end = after.find(MARK_END).unwrap_or(after.len());
        if end > 0 {
            parts.push(SnippetPart { text: after[..end].to_owned(), hit: true });
        }
        rest = after.get(end + MARK_END.len_utf8()..).unwrap_or_default();
    }
    parts
}

/// `/Photos/2026` for each folder (`/` for the root): the folders and their ancestors read a
/// level at a time, never one by one.
async fn folder_paths(
    db: &impl ConnectionTrait,
    wanted: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, AppError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut known: HashMap<Uuid, folders::Model> = HashMap::new();
    let mut missing: Vec<Uuid> = wanted.clone();
    for _ in 0..=crate::files::MAX_DEPTH {
        missing.sort_unstable();
        missing.dedup();
        missing.retain(|id| !known.contains_key(id));
        if missing.is_empty() {
            break;
        }
        let level = folders::Entity::find()
            .filter(folders::Column::Id.is_in(std::mem::take(&mut missing)))
            .all(db)
            .await?;
        for folder in level {
            missing.extend(folder.parent_id);
            known.insert(folder.id, folder);
        }
    }
    let path_of = |mut id: Uuid| {
        let mut names = Vec::new();
        while let Some(folder) = known.get(&id) {
            if !folder.name.is_empty() {
                names.push(folder.name.as_str());
            }
            match folder.parent_id {
                Some(parent) if names.len() <= crate::files::MAX_DEPTH => id = parent,
                _ => break,
            }
        }
        names.reverse();
        format!("/{}", names.join("/"))
    };
    Ok(wanted.iter().map(|id| (*id, path_of(*id))).collect())
}

/// Every folder (and all below) of `owner` named `name`, case-insensitively.
async fn folders_named(
    db: &impl ConnectionTrait,
    owner: Uuid,
    name: &str,
) -> Result<Vec<Uuid>, AppError> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let named: Vec<Uuid> = folders::Entity::find()
        .select_only()
        .column(folders::Column::Id)
        .filter(folders::Column::OwnerId.eq(owner))
        .filter(ExprTrait::eq(
            Expr::expr(Func::lower(Expr::col(folders::Column::Name))),
            name.to_lowercase(),
        ))
        .into_tuple()
        .all(db)
        .await?;
    let mut all = Vec::new();
    for folder in named {
        all.extend(crate::files::subtree(db, folder).await?.0);
    }
    all.sort_unstable();
    all.dedup();
    Ok(all)
}

/// A statement being written, with its bound values in order.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
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
    fn select(
        &mut self,
        scope: Scope,
        query: &Query,
        within: Option<&[Uuid]>,
        phase: Phase,
        limit: u64,
        offset: u64,
    ) {
        let sqlite = !self.postgres();
        let indexed = move |term: &&Term| sqlite && term.text().chars().count() >= 3;
        let driving: Vec<&Term> = query.terms.iter().filter(indexed).collect();
        let owner = self.bind(scope.owner);
        let order = if driving.is_empty() {
            // PostgreSQL (its trigram indexes serve each LIKE, or its index by owner and age
            // reads newest first), or only short words on SQLite: the account's rows, newest
            // first, each condition in turn. Words of one or two characters alone have no
            // trigram to look up: they look among the newest files only (as-you-type's first
            // keystrokes; the third reaches everything).
            let short_only = !query.terms.is_empty()
                && query.terms.iter().all(|term| term.text().chars().count() < 3);
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
            for term in &query.terms {
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
            for term in query.terms.iter().filter(|term| !indexed(term)) {
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
        if text.chars().count() >= 3 {
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
    fn snippets(&mut self, query: &Query, ids: &[Uuid]) -> bool {
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
            .filter(|term| term.text().chars().count() >= 3)
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
            Kind::Archive => exact(self, &super::query::ARCHIVES),
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
fn ts_query(term: &Term) -> Option<String> {
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

/// Rebuilds the index from the files (`pannier search reindex`): after a restore from a
/// backup taken without it, or to repair it. In one transaction on SQLite (searches see the
/// old index or the new, never half); PostgreSQL rebuilds its two indexes. How many files
/// it holds.
pub async fn reindex(db: &sea_orm::DatabaseConnection) -> Result<u64, AppError> {
    use sea_orm::{PaginatorTrait, TransactionTrait};
    let statements: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &[
            "REINDEX INDEX idx_files_name_trgm",
            "REINDEX INDEX idx_files_description_trgm",
            "REINDEX INDEX idx_file_texts_tsv",
        ],
        _ => &[
            "DELETE FROM search_fts",
            "DELETE FROM search_rows",
            // Numbered in upload order: searches read the newest first by this number.
            "INSERT INTO search_rows (file_id) SELECT id FROM files ORDER BY created_at, id",
            "INSERT INTO search_fts (rowid, name, description, content) \
             SELECT r.row, f.name, coalesce(f.description, ''), coalesce(t.body, '') FROM files f \
             JOIN search_rows r ON r.file_id = f.id LEFT JOIN file_texts t ON t.file_id = f.id",
        ],
    };
    let transaction = db.begin().await?;
    for statement in statements {
        transaction.execute_unprepared(statement).await?;
    }
    transaction.commit().await?;
    Ok(files::Entity::find().count(db).await?)
}

#[cfg(test)]
mod tests {
    use crate::testing::TestState;

    #[tokio::test]
    async fn names_and_texts_are_found_with_snippets() {
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        t.file(&ada, "notes.md", b"the glacier expedition budget").await;
        t.file(&ada, "invoice.txt", b"paid").await;
        crate::jobs::drain(&t.state).await.expect("drained");
        let search = |q: &'static str| {
            let (state, ada) = (t.state.clone(), ada.clone());
            async move {
                let query = super::super::parse(q).expect("parsed");
                super::search(&state, &ada, &query, 10, None).await.expect("searched")
            }
        };
        assert_eq!(search("voice").await.hits[0].file.name, "invoice.txt");
        let page = search("budget").await;
        assert_eq!(page.hits[0].file.name, "notes.md");
        let marked: Vec<&str> =
            page.hits[0].snippet.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
        assert_eq!(marked, ["budget"]);
    }

    #[test]
    fn snippets_split_at_their_marks() {
        let parts = super::snippet_parts("…the \u{E000}glacier\u{E001} ex\u{E000}ped");
        let parts: Vec<(&str, bool)> = parts.iter().map(|p| (p.text.as_str(), p.hit)).collect();
        assert_eq!(parts, [("…the ", false), ("glacier", true), (" ex", false), ("ped", true)]);
    }

    #[test]
    fn postgres_queries_are_built_of_quoted_words_only() {
        use super::super::Term;
        assert_eq!(
            super::ts_query(&Term::Word("o'brien".into())).as_deref(),
            Some("'o' <-> 'brien':*")
        );
        assert_eq!(
            super::ts_query(&Term::Phrase("paid in".into())).as_deref(),
            Some("'paid' <-> 'in'")
        );
        assert_eq!(super::ts_query(&Term::Word("--".into())), None);
        assert_eq!(super::ts_query(&Term::Word("a:*|!b".into())).as_deref(), Some("'a' <-> 'b':*"));
    }
}
