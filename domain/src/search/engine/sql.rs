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
    /// Those whose names hold some of the words and their folders' path the rest (a query of
    /// two words or more of three characters or more, each in the name or the path, at least
    /// one in the name; shorter words in the name).
    Paths,
    /// Those matching by description or text (each word in the name, description or text).
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
            ("p", true) => Some(Self::Paths),
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
            Self::Paths => 'p',
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
        phase: Phase,
        limit: u64,
        offset: u64,
    ) {
        let sqlite = !self.postgres();
        let long: Vec<&Term> = query.terms.iter().filter(|term| has_trigram(term)).collect();
        let owner = self.bind(scope.owner);
        let order = if sqlite && !long.is_empty() {
            self.sqlite_candidates(query, &long, phase, &owner);
            "c.row DESC"
        } else {
            // PostgreSQL (its trigram indexes serve each LIKE, or its index by owner and age
            // reads newest first), or only short words on SQLite: the account's rows, newest
            // first, each condition in turn. Words of one or two characters alone have no
            // trigram to look up: they look among the newest files only (as-you-type's first
            // keystrokes; the third reaches everything).
            let short_only = !query.terms.is_empty() && long.is_empty();
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
            "f.created_at DESC, f.id DESC"
        };
        // The phases split the matches by one condition, so none is in both or in neither.
        match phase {
            Phase::Names => {
                // (On SQLite the long words are looked up in the names index already.)
                let unchecked = query.terms.iter().filter(|term| !sqlite || !has_trigram(term));
                for term in unchecked {
                    let in_name = self.matches(term, Field::Name);
                    self.push(&format!(" AND {in_name}"));
                }
            }
            Phase::Paths => {
                if !sqlite {
                    // (SQLite looked them up in the names index already.)
                    let placed = self.placed(&long);
                    self.push(&format!(" AND {placed}"));
                    let (some, all) = self.in_name(&long);
                    self.push(&format!(" AND ({some}) AND NOT ({all})"));
                }
                for term in query.terms.iter().filter(|term| !has_trigram(term)) {
                    let in_name = self.matches(term, Field::Name);
                    self.push(&format!(" AND {in_name}"));
                }
            }
            Phase::Others => {
                for term in &query.terms {
                    let matches = self.matches(term, Field::Either);
                    self.push(&format!(" AND {matches}"));
                }
                // Not a file of the phases before.
                let earlier = self.named_or_placed(scope, query, &long);
                self.push(&format!(" AND NOT ({earlier})"));
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
        for term in &query.excluded {
            let matches = self.matches(term, Field::Either);
            self.push(&format!(" AND NOT {matches}"));
        }
        self.filters(query);
        if let Some(within) = self.within(scope, query) {
            self.push(&format!(" AND f.folder_id IN ({within})"));
        }
        if let Some(share) = scope.share {
            let share = self.bind(share);
            self.push(&format!(
                " AND f.id IN (SELECT file_id FROM share_files WHERE share_id = {share})"
            ));
        }
        let (limit, offset) = (self.bind(limit as i64), self.bind(offset as i64));
        self.push(&format!(" ORDER BY {order} LIMIT {limit} OFFSET {offset}"));
    }

    /// SQLite, a query with long words: the `FROM` and first condition of a phase whose
    /// candidates an FTS index finds, newest first (the files table only filters them; no sort
    /// is needed, so a page stops reading once full: read by `c.row DESC`). CROSS JOIN
    /// keeps that order: left to the planner, it walked the account's files and ran the MATCH
    /// once per file (over 30 s at 100,000 files).
    fn sqlite_candidates(&mut self, query: &Query, long: &[&Term], phase: Phase, owner: &str) {
        let strings = |terms: &[&Term], joint: &str| strings_in(terms, "", joint);
        let from = match phase {
            // Every long word in the name, in one MATCH of the names index. An extension is in
            // the name: the index narrows the candidates to names holding it too (the filter
            // still asks that the name ends with it).
            Phase::Names | Phase::All | Phase::Paths => {
                let mut expression = if phase == Phase::Paths {
                    // Each word in the name or the path, some in the name, not all of them.
                    format!(
                        "({} AND name : ({})) NOT name : ({})",
                        strings_in(long, "{name path}", " AND "),
                        strings(long, " OR "),
                        strings(long, " AND ")
                    )
                } else {
                    format!("name : ({})", strings(long, " AND "))
                };
                let dotted: Vec<String> =
                    query.extensions.iter().map(|ext| format!(".{ext}")).collect();
                if !dotted.is_empty() && dotted.iter().all(|ext| ext.chars().nth(2).is_some()) {
                    let any: Vec<String> = dotted.iter().map(|ext| fts_string(ext)).collect();
                    expression = format!("({expression}) AND name : ({})", any.join(" OR "));
                }
                let expression = self.bind(expression);
                format!("(SELECT rowid AS row FROM search_fts WHERE search_fts MATCH {expression})")
            }
            // A file here has a word outside its name: a long one in its description or
            // text, which the texts index finds (nothing to read when no text holds any), or a
            // short one (looked for in names and descriptions) in its description.
            Phase::Others => {
                let any = self.bind(strings(long, " OR "));
                let mut from = format!(
                    "(SELECT rowid AS row FROM search_texts WHERE search_texts MATCH {any}"
                );
                let short: Vec<&Term> = query.terms.iter().filter(|t| !has_trigram(t)).collect();
                if !short.is_empty() {
                    let described: Vec<String> = short
                        .iter()
                        .map(|term| {
                            let pattern = self.bind(format!("%{}%", escape_like(term.text())));
                            format!("d.description LIKE {pattern} ESCAPE '\\'")
                        })
                        .collect();
                    from.push_str(&format!(
                        " UNION SELECT s.row FROM files d CROSS JOIN search_rows s \
                         ON s.file_id = d.id WHERE d.owner_id = {owner} \
                         AND d.description IS NOT NULL AND ({})",
                        described.join(" OR ")
                    ));
                }
                from.push(')');
                from
            }
        };
        self.push(&format!(
            "SELECT f.* FROM {from} c CROSS JOIN search_rows r ON r.row = c.row \
             CROSS JOIN files f ON f.id = r.file_id WHERE f.owner_id = {owner}"
        ));
    }

    /// PostgreSQL: each of the `long` words in the file's path or name.
    fn placed(&mut self, long: &[&Term]) -> String {
        let placed: Vec<String> =
            long.iter().map(|term| self.folded_contains("f.path_fold", term)).collect();
        placed.join(" AND ")
    }

    /// PostgreSQL: `long` words in the file's name: some of them, and all of them.
    fn in_name(&mut self, long: &[&Term]) -> (String, String) {
        let named: Vec<String> = long.iter().map(|term| self.name_like("f", term)).collect();
        (named.join(" OR "), named.join(" AND "))
    }

    /// A condition: the file is one of the names or paths phases (every word in its name; or
    /// the long words in its name or path, some in its name, the short ones in its name).
    fn named_or_placed(&mut self, scope: Scope, query: &Query, long: &[&Term]) -> String {
        if !paths_phase(scope, query) {
            let in_name: Vec<String> =
                query.terms.iter().map(|term| self.matches(term, Field::Name)).collect();
            return in_name.join(" AND ");
        }
        let mut conditions = if self.postgres() {
            let placed = self.placed(long);
            let (some, _) = self.in_name(long);
            vec![format!("{placed} AND ({some})")]
        } else {
            let expression = self.bind(format!(
                "{} AND name : ({})",
                strings_in(long, "{name path}", " AND "),
                strings_in(long, "", " OR ")
            ));
            vec![format!(
                "r.row IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {expression})"
            )]
        };
        for term in query.terms.iter().filter(|term| !has_trigram(term)) {
            conditions.push(self.matches(term, Field::Name));
        }
        conditions.join(" AND ")
    }

    /// PostgreSQL: the ids of `owner`'s files with `term` in their description or text.
    fn outside_name(&mut self, owner: &str, term: &Term) -> String {
        let described = self.folded_contains("pannier_fold(coalesce(d.description, ''))", term);
        let mut ids = format!(
            "SELECT d.id FROM files d WHERE d.owner_id = {owner} AND d.description IS NOT NULL \
             AND {described}"
        );
        if let Some(texts) = self.texts_holding(term) {
            ids.push_str(&format!(" UNION {texts}"));
        }
        ids
    }

    /// PostgreSQL: the ids of the files whose text holds `term`'s words (none for a term
    /// without any).
    fn texts_holding(&mut self, term: &Term) -> Option<String> {
        let words = self.bind(ts_query(term)?);
        Some(format!(
            "SELECT t.file_id FROM file_texts t \
             WHERE t.tsv @@ to_tsquery('simple', pannier_fold({words}))"
        ))
    }

    /// The `SELECT` of up to `limit` of `owner`'s folders (not the root) whose names hold every
    /// word of `query` and none it leaves out, newest first.
    pub(super) fn folders(&mut self, scope: Scope, query: &Query, limit: u64) {
        let sqlite = !self.postgres();
        let indexed = move |term: &&Term| sqlite && has_trigram(term);
        let owner = self.bind(scope.owner);
        let driving: Vec<&Term> = query.terms.iter().filter(indexed).collect();
        let order = if driving.is_empty() {
            self.push(&format!(
                "SELECT d.* FROM folders d WHERE d.owner_id = {owner} AND d.parent_id IS NOT NULL"
            ));
            "d.created_at DESC, d.id DESC"
        } else {
            // As for files: the FTS index finds the candidates, newest first.
            let mut expression = driving
                .iter()
                .map(|term| fts_string(term.text()))
                .collect::<Vec<_>>()
                .join(" AND ");
            for term in query.excluded.iter().filter(indexed) {
                expression.push_str(" NOT ");
                expression.push_str(&fts_string(term.text()));
            }
            let expression = self.bind(expression);
            self.push(&format!(
                "SELECT d.* FROM search_folders s \
                 CROSS JOIN search_folder_rows r ON r.row = s.rowid \
                 CROSS JOIN folders d ON d.id = r.folder_id \
                 WHERE search_folders MATCH {expression} AND d.owner_id = {owner}"
            ));
            "s.rowid DESC"
        };
        for term in query.terms.iter().filter(|term| !indexed(term)) {
            let named = self.folder_named(term);
            self.push(&format!(" AND {named}"));
        }
        let in_match = |term: &&Term| !driving.is_empty() && indexed(term);
        for term in query.excluded.iter().filter(|term| !in_match(term)) {
            let named = self.folder_named(term);
            self.push(&format!(" AND NOT {named}"));
        }
        if let Some(within) = self.within(scope, query) {
            self.push(&format!(" AND d.id IN ({within})"));
        }
        let limit = self.bind(limit as i64);
        self.push(&format!(" ORDER BY {order} LIMIT {limit}"));
    }

    /// The ids of the folders a search is limited to, as a subquery (`None`: not limited): the
    /// shared folder's subtree, the subtrees of the folders `in:` names (within it). Walked by
    /// the database, never bound id by id (a tree of 40,000 folders would pass the 32,766
    /// values SQLite binds).
    fn within(&mut self, scope: Scope, query: &Query) -> Option<String> {
        let below = scope.below.map(|top| {
            let top = self.bind(top);
            format!(
                "WITH RECURSIVE below(id) AS (SELECT {top} \
                 UNION SELECT c.id FROM folders c JOIN below ON c.parent_id = below.id) \
                 SELECT id FROM below"
            )
        });
        let Some(name) = &query.within else { return below };
        let (owner, name) = (self.bind(scope.owner), self.bind(name.to_lowercase()));
        let mut named = format!(
            "SELECT n.id FROM folders n WHERE n.owner_id = {owner} AND lower(n.name) = {name}"
        );
        if let Some(below) = below {
            named.push_str(&format!(" AND n.id IN ({below})"));
        }
        Some(format!(
            "WITH RECURSIVE named(id) AS ({named} \
             UNION SELECT c.id FROM folders c JOIN named ON c.parent_id = named.id) \
             SELECT id FROM named"
        ))
    }

    /// A condition: `term` is in the name of the folder `d`.
    fn folder_named(&mut self, term: &Term) -> String {
        if !self.postgres() && has_trigram(term) {
            let expression = self.bind(fts_string(term.text()));
            return format!(
                "d.id IN (SELECT r.folder_id FROM search_folders s \
                 JOIN search_folder_rows r ON r.row = s.rowid WHERE search_folders MATCH {expression})"
            );
        }
        self.name_like("d", term)
    }

    /// A condition: `term` is in the name of `table` (`f`, a file; `d`, a folder), compared
    /// folded (PostgreSQL: a file's name is stored folded) or by `LIKE`, which folds ASCII case
    /// (SQLite, for words too short for its index).
    fn name_like(&mut self, table: &str, term: &Term) -> String {
        if self.postgres() {
            let name = if table == "f" {
                "f.name_fold".to_owned()
            } else {
                format!("pannier_fold({table}.name)")
            };
            return self.folded_contains(&name, term);
        }
        let pattern = self.bind(format!("%{}%", escape_like(term.text())));
        format!("{table}.name LIKE {pattern} ESCAPE '\\'")
    }

    /// PostgreSQL: `term` is in `folded` (a folded expression): by `LIKE`, which its trigram
    /// index serves, or for a word of one or two characters (no trigram) by position — as a
    /// `LIKE`, the index would take it, find nothing to narrow by, and have every row the
    /// other words match read and checked again (`draft 東京`: 39,000 rows, 220 ms).
    fn folded_contains(&mut self, folded: &str, term: &Term) -> String {
        if has_trigram(term) {
            let pattern = self.bind(format!("%{}%", escape_like(term.text())));
            format!("{folded} LIKE pannier_fold({pattern}) ESCAPE '\\'")
        } else {
            let text = self.bind(term.text().to_owned());
            format!("strpos({folded}, pannier_fold({text})) > 0")
        }
    }

    /// A condition: `term` is in the file's name (or its description too).
    fn matches(&mut self, term: &Term, field: Field) -> String {
        let text = term.text();
        if self.postgres() {
            let name = self.name_like("f", term);
            if matches!(field, Field::Name) {
                return name;
            }
            let description =
                self.folded_contains("pannier_fold(coalesce(f.description, ''))", term);
            let Some(texts) = self.texts_holding(term) else {
                return format!("({name} OR {description})");
            };
            return format!("({name} OR {description} OR f.id IN ({texts}))");
        }
        if has_trigram(term) {
            let in_name = self.bind(format!("name : {}", fts_string(text)));
            let name =
                format!("r.row IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {in_name})");
            if matches!(field, Field::Name) {
                return name;
            }
            let expression = self.bind(fts_string(text));
            return format!(
                "({name} OR r.row IN \
                 (SELECT rowid FROM search_texts WHERE search_texts MATCH {expression}))"
            );
        }
        // Shorter than a trigram (scanned: only this account's rows): LIKE, ASCII case folded.
        match field {
            Field::Name => self.name_like("f", term),
            Field::Either => {
                let pattern = self.bind(format!("%{}%", escape_like(text)));
                format!(
                    "(f.name LIKE {pattern} ESCAPE '\\' \
                     OR coalesce(f.description, '') LIKE {pattern} ESCAPE '\\')"
                )
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
            "SELECT r.file_id AS id, snippet(search_texts, 1, {start}, {end}, '…', 40) AS snippet \
             FROM search_texts CROSS JOIN search_rows r ON r.row = search_texts.rowid \
             WHERE search_texts MATCH {words} \
             AND search_texts.rowid IN (SELECT row FROM search_rows WHERE file_id IN ({ids}))"
        ));
        true
    }

    fn filters(&mut self, query: &Query) {
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
                    if self.postgres() {
                        // Also in the folded name: its trigram index narrows the candidates.
                        format!(
                            "(lower(f.name) LIKE {pattern} ESCAPE '\\' \
                             AND f.name_fold LIKE pannier_fold({pattern}) ESCAPE '\\')"
                        )
                    } else {
                        format!("lower(f.name) LIKE {pattern} ESCAPE '\\'")
                    }
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

/// Every folder's path (`folders.path`), from the root's children down.
pub(super) const FOLDER_PATHS: &str = "WITH RECURSIVE p(id, path) AS ( \
       SELECT c.id, CAST(c.name AS TEXT) FROM folders c JOIN folders r ON r.id = c.parent_id \
       WHERE r.parent_id IS NULL \
     UNION ALL \
       SELECT c.id, p.path || '/' || c.name FROM folders c JOIN p ON c.parent_id = p.id) \
     UPDATE folders SET path = p.path FROM p WHERE folders.id = p.id";

/// The statements that rewrite the paths below a renamed or moved folder (bound: its id), in
/// order: the folders below it, then the files in them (and in it).
pub(super) fn folder_moved(backend: DbBackend) -> [&'static str; 2] {
    // Deeper than a tree may grow (`files::MAX_DEPTH`): a looping tree, which only a damaged
    // database holds, ends the walk instead of hanging it.
    let folders = "WITH RECURSIVE below(id, path, depth) AS ( \
           SELECT id, path, 0 FROM folders WHERE id = $1 \
         UNION ALL \
           SELECT c.id, below.path || '/' || c.name, below.depth + 1 FROM folders c \
           JOIN below ON c.parent_id = below.id WHERE below.depth < 100) \
         UPDATE folders SET path = below.path FROM below \
         WHERE folders.id = below.id AND folders.id <> $1";
    if backend == DbBackend::Postgres {
        let files = "WITH RECURSIVE below(id) AS ( \
               SELECT CAST($1 AS uuid) UNION \
               SELECT c.id FROM folders c JOIN below ON c.parent_id = below.id) \
             UPDATE files f SET path_fold = pannier_fold(d.path || '/' || f.name) \
             FROM folders d WHERE d.id = f.folder_id AND f.folder_id IN (SELECT id FROM below)";
        return [folders, files];
    }
    let files = "UPDATE search_fts SET path = (SELECT d.path FROM search_rows r \
           JOIN files f ON f.id = r.file_id JOIN folders d ON d.id = f.folder_id \
           WHERE r.row = search_fts.rowid) \
         WHERE rowid IN (WITH RECURSIVE below(id) AS ( \
             SELECT $1 UNION SELECT c.id FROM folders c JOIN below ON c.parent_id = below.id) \
           SELECT r.row FROM files f JOIN search_rows r ON r.file_id = f.id \
           WHERE f.folder_id IN (SELECT id FROM below))";
    [folders, files]
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

/// Whether a search of `query` in `scope` has a paths phase: two words or more long enough
/// for the indexes (with one, "some in the name but not all" holds for none), and not within
/// a link (the paths it stores go up to the owner's root: the names of the folders above the
/// shared one are not the visitor's to probe).
pub(super) fn paths_phase(scope: Scope, query: &Query) -> bool {
    scope.below.is_none()
        && scope.share.is_none()
        && query.terms.iter().filter(|term| has_trigram(term)).nth(1).is_some()
}

/// FTS5 strings of `terms` joined by `joint`, each after the column filter `columns` (none
/// when empty: `{name path} : "2018"`).
fn strings_in(terms: &[&Term], columns: &str, joint: &str) -> String {
    let filter = if columns.is_empty() { String::new() } else { format!("{columns} : ") };
    terms
        .iter()
        .map(|term| format!("{filter}{}", fts_string(term.text())))
        .collect::<Vec<_>>()
        .join(joint)
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
