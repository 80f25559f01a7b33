//! The statements a search runs, written for the engine at hand — the only engine-specific
//! SQL of search: SQLite FTS5 trigram, PostgreSQL `pg_trgm` over `pannier_fold` and `tsvector`
//! (see the `m20261130_000009_search` and `m20261130_000010_file_texts` migrations). Every term
//! reaches the database as a bound value, never as query syntax.

use sea_orm::{DbBackend, Value};
use uuid::Uuid;

use super::Scope;
use crate::AppError;
use crate::db::escape_like;
use crate::search::extract::{MARK_END, MARK_START};
use crate::search::query::{Day, Kind, Query, Term};

/// How many of an account's newest files a query of only one- or two-character words reads,
/// and the paths phase when no word has few files.
const NEWEST_READ: u64 = 20_000;

/// The paths phase reads the files of one word — those whose names hold it and those in the
/// folders it names — when some word has at most this many in all (each counted this far).
pub(super) const FEW_FILES: u64 = 5_000;

/// How the paths phase reads (from [`Sql::paths_plan`]'s answer).
#[derive(Debug, Clone, Copy)]
pub(super) enum PathsRead {
    /// The files of the word at this place among the query's words, which has few (on
    /// SQLite, read whole: see `paths_of_few`).
    Word(usize),
    /// The account's newest files ([`NEWEST_READ`]); on SQLite those from this row of the
    /// names index on (`None`: every row).
    Newest(Option<i64>),
}

/// Which files one statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Those whose names hold every word.
    Names,
    /// Those whose names hold some of the words and the folders above them the rest
    /// (`2018 beach`: `Photos/2018/beach.jpg`).
    Paths,
    /// Those matching by description or text.
    Others,
    /// Every match (a query of filters only: there is no name to rank by).
    All,
}

impl Phase {
    /// Where a page starts: `cursor` from the previous page (`n20`: the 21st name match);
    /// `paths`: whether the query has a paths phase ([`has_paths`]).
    pub(super) fn of_cursor(
        cursor: Option<&str>,
        ranked: bool,
        paths: bool,
    ) -> Result<(Self, u64), AppError> {
        let first = if ranked { Self::Names } else { Self::All };
        let Some(cursor) = cursor.filter(|cursor| !cursor.is_empty()) else {
            return Ok((first, 0));
        };
        let (phase, offset) = cursor.split_at_checked(1).unwrap_or_default();
        let phase = match (phase, ranked) {
            ("n", true) => Some(Self::Names),
            ("p", true) if paths => Some(Self::Paths),
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

    /// The phase after this one, if any.
    pub(super) fn next(self, paths: bool) -> Option<Self> {
        match self {
            Self::Names if paths => Some(Self::Paths),
            Self::Names | Self::Paths => Some(Self::Others),
            Self::Others | Self::All => None,
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

/// Whether a search of `query` in `scope` has a paths phase: two words or more (one is in the
/// name), in an account's own files. Never within a link: the folders above the shared one,
/// the owner's, are not the visitor's to search by.
pub(super) fn has_paths(scope: Scope, query: &Query) -> bool {
    query.terms.len() > 1 && scope.below.is_none() && scope.share.is_none()
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

    /// The `SELECT` of `limit` files of `phase` from `offset`, newest first; `paths`: how the
    /// paths phase reads; `below`: the folders below each word, for a query with paths.
    pub(super) fn select(
        &mut self,
        scope: Scope,
        query: &Query,
        (phase, paths): (Phase, Option<PathsRead>),
        below: &Below,
        (limit, offset): (u64, u64),
    ) {
        let sqlite = !self.postgres();
        let long: Vec<&Term> = query.terms.iter().filter(|term| has_trigram(term)).collect();
        let owner = self.bind(scope.owner);
        let paths = paths.filter(|_| phase == Phase::Paths);
        let (few, since) = match paths {
            Some(PathsRead::Word(word)) => (query.terms.get(word).zip(below.get(word)), None),
            Some(PathsRead::Newest(since)) => (None, since.map(|row| self.bind(row))),
            None => (None, None),
        };
        let order = if let Some((word, below)) = few {
            self.files_of_word(&owner, word, below);
            if sqlite { "c.row DESC" } else { "f.created_at DESC, f.id DESC" }
        } else if sqlite && !long.is_empty() {
            self.sqlite_candidates(query, &long, phase, &owner, since.as_deref());
            "c.row DESC"
        } else {
            // PostgreSQL (its trigram indexes serve each LIKE, or its index by owner and age
            // reads newest first), or only short words on SQLite: the account's rows, newest
            // first, each condition in turn. Words of one or two characters alone have no
            // trigram to look up: they look among the newest files only (as-you-type's first
            // keystrokes; the third reaches everything).
            //   So does PostgreSQL's paths phase when no word has few files.
            let short_only = !query.terms.is_empty() && long.is_empty();
            let files = if short_only || phase == Phase::Paths {
                let newest = self.bind(NEWEST_READ as i64);
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
                // On SQLite, the names index finds names holding some long word and not all
                // (in its MATCH) unless the files of one word are read — those are read whole,
                // and which words their names and the folders above them hold is checked in
                // Rust (`paths_of_few`).
                let matched = sqlite && few.is_none() && !long.is_empty();
                if !sqlite || few.is_none() {
                    let in_paths = self.in_paths(query, below, !matched, since.as_deref());
                    self.push(&format!(" AND {in_paths}"));
                }
                if !matched || long.len() < query.terms.len() {
                    let in_names = self.names_hold_all(query, since.as_deref());
                    self.push(&format!(" AND NOT {in_names}"));
                }
            }
            Phase::Others => {
                for term in &query.terms {
                    let matches = self.matches(term, Field::Either);
                    self.push(&format!(" AND {matches}"));
                }
                let in_names = self.names_hold_all(query, None);
                self.push(&format!(" AND NOT {in_names}"));
                if has_paths(scope, query) {
                    let in_paths = self.in_paths(query, below, true, None);
                    self.push(&format!(" AND NOT {in_paths}"));
                }
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
        let short = long.len() < query.terms.len();
        let order = if !sqlite && phase == Phase::Names && short && long.len() > 1 {
            // PostgreSQL, a word too short for a trigram beside two long ones: the matches
            // first, then their newest. The planner guesses a third of the names hold the
            // short word, then walks the account newest first for a page that the long words
            // together rarely fill (`music 東京 rés`: 845,000 files read, 400 ms; their
            // indexes together, 12 ms).
            self.text = format!("WITH m AS MATERIALIZED ({}) SELECT * FROM m", self.text);
            "m.created_at DESC, m.id DESC"
        } else {
            order
        };
        if sqlite && few.is_some() {
            // Paged once checked (see `Phase::Paths` above).
            self.push(&format!(" ORDER BY {order}"));
            return;
        }
        let (limit, offset) = (self.bind(limit as i64), self.bind(offset as i64));
        self.push(&format!(" ORDER BY {order} LIMIT {limit} OFFSET {offset}"));
    }

    /// The folders (not the root) whose names hold each word of `query`: rows of `word` (its
    /// place among the words) and `id`.
    pub(super) fn folders_named(&mut self, owner: Uuid, query: &Query) {
        let owner = self.bind(owner);
        let mut each = Vec::new();
        for (i, term) in query.terms.iter().enumerate() {
            let word = format!("SELECT CAST({i} AS BIGINT) AS word, d.id FROM");
            if !self.postgres() && has_trigram(term) {
                // Read from the index (as a condition, every folder of the account was read
                // and looked up in it: 1–2 ms a word).
                let expression = self.bind(fts_string(term.text()));
                each.push(format!(
                    "{word} search_folders s CROSS JOIN search_folder_rows r ON r.row = s.rowid \
                     CROSS JOIN folders d ON d.id = r.folder_id \
                     WHERE search_folders MATCH {expression} AND d.owner_id = {owner}"
                ));
                continue;
            }
            let named = self.folder_named(term);
            each.push(format!(
                "{word} folders d WHERE d.owner_id = {owner} AND d.parent_id IS NOT NULL AND {named}"
            ));
        }
        self.push(&each.join(" UNION ALL "));
    }

    /// SQLite, a query with long words: the `FROM` and first condition of a phase whose
    /// candidates an FTS index finds, newest first (the files table only filters them; no sort
    /// is needed, so a page stops reading once full: read by `c.row DESC`). CROSS JOIN
    /// keeps that order: left to the planner, it walked the account's files and ran the MATCH
    /// once per file (over 30 s at 100,000 files).
    fn sqlite_candidates(
        &mut self,
        query: &Query,
        long: &[&Term],
        phase: Phase,
        owner: &str,
        since: Option<&str>,
    ) {
        let strings = |terms: &[&Term], joint: &str| {
            terms.iter().map(|term| fts_string(term.text())).collect::<Vec<_>>().join(joint)
        };
        let from = match phase {
            // Every long word in the name (some, for the paths phase), in one MATCH of the
            // names index. An extension is in the name: the index narrows the candidates to
            // names holding it too (the filter still asks that the name ends with it).
            Phase::Names | Phase::Paths | Phase::All => {
                let mut expression = format!("({})", strings(long, " AND "));
                if phase == Phase::Paths {
                    // Some word, not all (when every word is long enough to be looked up).
                    let some = strings(long, " OR ");
                    expression = if long.len() == query.terms.len() {
                        format!("(({some}) NOT {expression})")
                    } else {
                        format!("({some})")
                    };
                }
                let dotted: Vec<String> =
                    query.extensions.iter().map(|ext| format!(".{ext}")).collect();
                if !dotted.is_empty() && dotted.iter().all(|ext| ext.chars().nth(2).is_some()) {
                    let any: Vec<String> = dotted.iter().map(|ext| fts_string(ext)).collect();
                    expression.push_str(&format!(" AND ({})", any.join(" OR ")));
                }
                let expression = self.bind(expression);
                let since = since.map(|row| format!(" AND rowid >= {row}")).unwrap_or_default();
                format!(
                    "(SELECT rowid AS row FROM search_fts WHERE search_fts MATCH {expression}{since})"
                )
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

    /// The `FROM` and first condition of a paths phase that reads the files of `word`: those
    /// whose names hold it and those in `folders`, the folders it names and those below (a
    /// few files, counted first), newest first.
    fn files_of_word(&mut self, owner: &str, word: &Term, folders: &[Uuid]) {
        let below = self.in_folders("x.folder_id", folders);
        if self.postgres() {
            let named = self.folded_contains("x.name_fold", word);
            // An array again: as an `IN`, the planner guessed many and read all of `files`.
            self.push(&format!(
                "SELECT f.* FROM files f WHERE f.id = ANY(ARRAY(SELECT x.id FROM files x \
                 WHERE x.owner_id = {owner} AND {named} \
                 UNION SELECT x.id FROM files x WHERE {below})) AND f.owner_id = {owner}"
            ));
            return;
        }
        let named = self.bind(fts_string(word.text()));
        self.push(&format!(
            "SELECT f.* FROM (SELECT rowid AS row FROM search_fts WHERE search_fts MATCH {named} \
             UNION SELECT s.row FROM files x CROSS JOIN search_rows s ON s.file_id = x.id \
             WHERE {below}) c \
             CROSS JOIN search_rows r ON r.row = c.row CROSS JOIN files f ON f.id = r.file_id \
             WHERE f.owner_id = {owner}"
        ));
    }

    /// The statement that decides how the paths phase reads: for each of `words` (`c0`, `c1`,
    /// …) the files in its folders (those it names and below) and, when those are few, the
    /// names holding it
    /// (each counted up to [`FEW_FILES`] + 1; more than [`FEW_FILES`] in all is many); on
    /// SQLite also `since`, the row of the account's 20,000th newest file in the names index.
    pub(super) fn paths_plan(&mut self, owner: Uuid, words: &[(&Term, &[Uuid])]) {
        let owner = self.bind(owner);
        let (few, cap) = (self.bind(FEW_FILES as i64), self.bind((FEW_FILES + 1) as i64));
        let (mut counted, mut counts) = (Vec::new(), Vec::new());
        for (i, (word, folders)) in words.iter().enumerate() {
            let below = self.in_folders("x.folder_id", folders);
            counted.push(format!(
                "(SELECT count(*) FROM (SELECT 1 FROM files x WHERE {below} LIMIT {cap}) p) AS p{i}"
            ));
            let named = if self.postgres() {
                let named = self.folded_contains("x.name_fold", word);
                format!("SELECT 1 FROM files x WHERE x.owner_id = {owner} AND {named}")
            } else {
                // (Every account's: the names index is one.)
                let named = self.bind(fts_string(word.text()));
                format!("SELECT 1 FROM search_fts WHERE search_fts MATCH {named}")
            };
            // The names are counted only when the folders' files are few.
            counts.push(format!(
                "CASE WHEN p{i} <= {few} THEN p{i} + \
                 (SELECT count(*) FROM ({named} LIMIT {cap}) n) ELSE {cap} END AS c{i}"
            ));
        }
        if !self.postgres() {
            let last = self.bind((NEWEST_READ - 1) as i64);
            // The 20,000th newest file by the account's index, then its row (joining each of
            // the 20,000 to its row on the way took 30–70 ms).
            counts.push(format!(
                "(SELECT r.row FROM search_rows r WHERE r.file_id = (SELECT w.id FROM files w \
                 WHERE w.owner_id = {owner} ORDER BY w.created_at DESC, w.id DESC \
                 LIMIT 1 OFFSET {last})) AS since"
            ));
        }
        self.push(&format!(
            "SELECT {} FROM (SELECT {}) counted",
            counts.join(", "),
            counted.join(", ")
        ));
    }

    /// A condition: the file's name holds every word of `query` (on SQLite its long words in
    /// one MATCH of the names index, from row `since` on: names holding several common words
    /// are few, and finding them all took 10–20 ms at a million names).
    fn names_hold_all(&mut self, query: &Query, since: Option<&str>) -> String {
        let long: Vec<&Term> = query.terms.iter().filter(|term| has_trigram(term)).collect();
        let mut each = Vec::new();
        if !self.postgres() && !long.is_empty() {
            let all: Vec<String> = long.iter().map(|term| fts_string(term.text())).collect();
            let all = self.bind(all.join(" AND "));
            let since = since.map(|row| format!(" AND rowid >= {row}")).unwrap_or_default();
            each.push(format!(
                "r.row IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {all}{since})"
            ));
        }
        for term in &query.terms {
            if self.postgres() || !has_trigram(term) {
                each.push(self.name_like("f", term));
            }
        }
        format!("({})", each.join(" AND "))
    }

    /// A condition: each of `query`'s words is in the file's name or the name of a folder above
    /// it (the file is in one of the word's folders in `below`), and some word is in the name
    /// (checked when `some_in_name`; a statement whose candidates come from names holding some
    /// word need not). `since`: on SQLite, the first row of the names index the statement
    /// reads.
    fn in_paths(
        &mut self,
        query: &Query,
        below: &Below,
        some_in_name: bool,
        since: Option<&str>,
    ) -> String {
        debug_assert_eq!(below.len(), query.terms.len(), "the folders below each word");
        let mut each = Vec::new();
        for (term, folders) in query.terms.iter().zip(below) {
            let in_name = self.name_holds(term, since);
            if folders.is_empty() {
                each.push(in_name);
                continue;
            }
            // (Not as an array: PostgreSQL looks a row's folder up in an array one by one.)
            let below = self.listed(folders);
            each.push(format!("({in_name} OR f.folder_id IN ({below}))"));
        }
        if some_in_name {
            let in_name: Vec<String> =
                query.terms.iter().map(|term| self.name_holds(term, since)).collect();
            each.push(format!("({})", in_name.join(" OR ")));
        }
        format!("({})", each.join(" AND "))
    }

    /// A condition: the file's name holds `term` — on PostgreSQL by position, so the planner
    /// reads the candidates the statement names rather than every name holding a word (a
    /// paths phase with `LIKE`s read 78,000 names for six results: 500 ms); on SQLite from the
    /// names index (from row `since` on: a page of the newest files reads only their part).
    fn name_holds(&mut self, term: &Term, since: Option<&str>) -> String {
        if self.postgres() {
            let text = self.bind(term.text().to_owned());
            return format!("strpos(f.name_fold, pannier_fold({text})) > 0");
        }
        if !has_trigram(term) {
            return self.name_like("f", term);
        }
        let expression = self.bind(fts_string(term.text()));
        let since = since.map(|row| format!(" AND rowid >= {row}")).unwrap_or_default();
        format!(
            "r.row IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {expression}{since})"
        )
    }

    /// A condition for reading files by folder: `column` is one of `folders` (PostgreSQL: as
    /// an array, which its index on files' folders looks up; as an `IN`, the planner guessed
    /// many folders and read every file).
    fn in_folders(&mut self, column: &str, folders: &[Uuid]) -> String {
        if self.postgres() {
            let array = self.uuid_array(folders);
            format!("{column} = ANY({array})")
        } else {
            let listed = self.listed(folders);
            format!("{column} IN ({listed})")
        }
    }

    /// `ids` as a subquery of one bound value (a folder named by a common word has thousands
    /// below it, past what SQLite binds one by one): a JSON array on SQLite, whose ids are
    /// blobs; an array on PostgreSQL.
    fn listed(&mut self, ids: &[Uuid]) -> String {
        if self.postgres() {
            let array = self.uuid_array(ids);
            return format!("SELECT unnest({array})");
        }
        let quoted: Vec<String> = ids.iter().map(|id| format!("\"{}\"", id.simple())).collect();
        let list = self.bind(format!("[{}]", quoted.join(",")));
        format!("SELECT unhex(value) FROM json_each({list})")
    }

    /// PostgreSQL: `ids` as a `uuid[]` of one bound value.
    fn uuid_array(&mut self, ids: &[Uuid]) -> String {
        let list = self.bind(ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","));
        format!("string_to_array({list}, ',')::uuid[]")
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
            and_below(&format!("SELECT {top}"))
        });
        let Some(name) = &query.within else { return below };
        let (owner, name) = (self.bind(scope.owner), self.bind(name.to_lowercase()));
        let mut named = format!(
            "SELECT n.id FROM folders n WHERE n.owner_id = {owner} AND lower(n.name) = {name}"
        );
        if let Some(below) = below {
            named.push_str(&format!(" AND n.id IN ({below})"));
        }
        Some(and_below(&named))
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
            if table == "f" {
                return self.folded_contains("f.name_fold", term);
            }
            // Folders are few: a `LIKE` even for a word without trigrams, so the planner
            // guesses how many names hold it (a position it guesses at a third of them, and
            // the folders below those too many to hash: they were walked once per file).
            let pattern = self.bind(format!("%{}%", escape_like(term.text())));
            return format!("pannier_fold({table}.name) LIKE pannier_fold({pattern}) ESCAPE '\\'");
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
            let name = self.name_holds(term, None);
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

/// The folders each of a query's words names and every folder below them, by the word's place
/// among the query's words (from `engine::folders_below`).
pub(super) type Below = [Vec<Uuid>];

/// Whether `term` is long enough for a trigram index to look it up (three characters).
pub(super) fn has_trigram(term: &Term) -> bool {
    term.text().chars().nth(2).is_some()
}

/// The ids of the folders `roots` selects and of every folder below them: a subquery the
/// database walks down.
fn and_below(roots: &str) -> String {
    format!(
        "WITH RECURSIVE below(id) AS ({roots} \
         UNION SELECT c.id FROM folders c JOIN below ON c.parent_id = below.id) \
         SELECT id FROM below"
    )
}

/// An FTS5 string: matched as a substring by the trigram tokenizer, never as syntax.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Midnight UTC at the start of `day` (`None` for a day chrono cannot hold).
fn start_of(day: Day) -> Option<chrono::DateTime<chrono::Utc>> {
    let date = chrono::NaiveDate::from_ymd_opt(day.year, day.month, day.day)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}
