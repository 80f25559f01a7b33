//! Runs a parsed [`Query`] over one account's files: the engine-specific SQL lives here and
//! only here (SQLite FTS5 trigram, PostgreSQL `pg_trgm` over `pannier_fold`; see the
//! `m20261130_000009_search` migration). Every term reaches the database as a bound value,
//! never as query syntax.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};
use uuid::Uuid;

use super::query::{Day, Kind, Query, Term};
use super::{SearchHit, SearchPage};
use crate::AppError;
use crate::entities::{files, folders, users};
use crate::state::AppState;

/// The most results one page holds.
pub const MAX_LIMIT: u64 = 50;

/// Page `cursor` (an offset, from the previous page) of `owner`'s files matching `query`,
/// names matching first, then the most recently changed.
pub async fn search(
    state: &AppState,
    owner: &users::Model,
    query: &Query,
    limit: u64,
    cursor: Option<&str>,
) -> Result<SearchPage, AppError> {
    let offset: u64 = match cursor {
        None | Some("") => 0,
        Some(cursor) => {
            cursor.parse().ok().filter(|offset| *offset <= 10_000).ok_or_else(|| {
                AppError::BadRequest(
                    "This cursor is not one a search gave: start again without it.".into(),
                )
            })?
        }
    };
    let limit = limit.clamp(1, MAX_LIMIT);
    if query.is_empty() {
        return Ok(SearchPage::default());
    }
    let owner_id = owner.id;
    state
        .read(Some(owner_id), |state| async move {
            let db = &state.db;
            let within = match &query.within {
                Some(name) => match folders_named(db, owner_id, name).await? {
                    ids if ids.is_empty() => return Ok(SearchPage::default()),
                    ids => Some(ids),
                },
                None => None,
            };
            let mut sql = Sql::new(db.get_database_backend());
            sql.select(owner_id, query, within.as_deref(), limit + 1, offset);
            let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
            let mut found = files::Entity::find().from_raw_sql(statement).all(db).await?;
            let more = found.len() as u64 > limit;
            found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let hits = hits(db, &found).await?;
            let next_cursor = more.then(|| (offset + limit).to_string());
            Ok(SearchPage { hits, next_cursor })
        })
        .await
}

/// The files as hits, each with the path of its folder.
async fn hits(
    db: &impl ConnectionTrait,
    found: &[files::Model],
) -> Result<Vec<SearchHit>, AppError> {
    let dtos = crate::files::file_dtos(db, found).await?;
    let mut paths: HashMap<Uuid, String> = HashMap::new();
    let mut hits = Vec::with_capacity(dtos.len());
    for (model, file) in found.iter().zip(dtos) {
        let path = match paths.get(&model.folder_id) {
            Some(path) => path.clone(),
            None => {
                let path = folder_path(db, model.folder_id).await?;
                paths.insert(model.folder_id, path.clone());
                path
            }
        };
        hits.push(SearchHit { file, path });
    }
    Ok(hits)
}

/// `/Photos/2026` for a folder (`/` for the root).
async fn folder_path(db: &impl ConnectionTrait, folder: Uuid) -> Result<String, AppError> {
    let Some(folder) = folders::Entity::find_by_id(folder).one(db).await? else {
        return Ok("/".into());
    };
    let mut names: Vec<String> =
        crate::files::ancestors(db, &folder).await?.into_iter().rev().map(|f| f.name).collect();
    names.push(folder.name);
    let path = names.into_iter().filter(|name| !name.is_empty()).collect::<Vec<_>>().join("/");
    Ok(format!("/{path}"))
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

    /// The whole `SELECT` of one page.
    fn select(
        &mut self,
        owner: Uuid,
        query: &Query,
        within: Option<&[Uuid]>,
        limit: u64,
        offset: u64,
    ) {
        let sqlite = !self.postgres();
        let indexed = move |term: &&Term| sqlite && term.text().chars().count() >= 3;
        let driving: Vec<&Term> = query.terms.iter().filter(indexed).collect();
        let owner = self.bind(owner);
        if driving.is_empty() {
            // PostgreSQL (its trigram indexes serve each LIKE), or only short words on SQLite:
            // the account's rows, each condition in turn.
            let fts = query.excluded.iter().any(|term| indexed(&term));
            self.push("SELECT f.* FROM files f");
            if fts {
                self.push(" JOIN search_rows r ON r.file_id = f.id");
            }
            self.push(&format!(" WHERE f.owner_id = {owner}"));
            for term in &query.terms {
                let matches = self.matches(term, Field::Either);
                self.push(&format!(" AND {matches}"));
            }
        } else {
            // SQLite: the FTS index finds the candidates (every long word, none of the long
            // exclusions, in one MATCH); the files table only filters them. CROSS JOIN keeps
            // that order: left to the planner, it walked the account's files and ran the MATCH
            // once per file (over 30 s at 100,000 files).
            let mut expression = driving
                .iter()
                .map(|term| fts_string(term.text()))
                .collect::<Vec<_>>()
                .join(" AND ");
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
        }
        let excluded: Vec<&Term> = if driving.is_empty() {
            query.excluded.iter().collect()
        } else {
            query.excluded.iter().filter(|term| !indexed(term)).collect()
        };
        for term in excluded {
            let matches = self.matches(term, Field::Either);
            self.push(&format!(" AND NOT {matches}"));
        }
        self.filters(query, within);
        self.push(" ORDER BY ");
        if !query.terms.is_empty() {
            let in_name: Vec<String> =
                query.terms.iter().map(|term| self.matches(term, Field::Name)).collect();
            self.push(&format!("CASE WHEN {} THEN 0 ELSE 1 END, ", in_name.join(" AND ")));
        }
        let (limit, offset) = (self.bind(limit as i64), self.bind(offset as i64));
        self.push(&format!("f.updated_at DESC, f.id LIMIT {limit} OFFSET {offset}"));
    }

    /// A condition: `term` is in the file's name (or its description too).
    fn matches(&mut self, term: &Term, field: Field) -> String {
        let text = term.text();
        if self.postgres() {
            let pattern = self.bind(format!("%{}%", escape_like(text)));
            let name = format!("pannier_fold(f.name) LIKE pannier_fold({pattern}) ESCAPE '\\'");
            return match field {
                Field::Name => name,
                Field::Either => format!(
                    "({name} OR pannier_fold(coalesce(f.description, '')) LIKE pannier_fold({pattern}) ESCAPE '\\')"
                ),
            };
        }
        if text.chars().count() >= 3 && matches!(field, Field::Either) {
            let expression = self.bind(fts_string(text));
            return format!(
                "r.row IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {expression})"
            );
        }
        // Shorter than a trigram (scanned: only this account's rows), or ranking by name: LIKE,
        // ASCII case folded.
        let pattern = self.bind(format!("%{}%", escape_like(text)));
        let name = format!("f.name LIKE {pattern} ESCAPE '\\'");
        match field {
            Field::Name => name,
            Field::Either => {
                format!("({name} OR coalesce(f.description, '') LIKE {pattern} ESCAPE '\\')")
            }
        }
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
        DbBackend::Postgres => {
            &["REINDEX INDEX idx_files_name_trgm", "REINDEX INDEX idx_files_description_trgm"]
        }
        _ => &[
            "DELETE FROM search_fts",
            "DELETE FROM search_rows",
            "INSERT INTO search_rows (file_id) SELECT id FROM files",
            "INSERT INTO search_fts (rowid, name, description) \
             SELECT r.row, f.name, coalesce(f.description, '') FROM files f \
             JOIN search_rows r ON r.file_id = f.id",
        ],
    };
    let transaction = db.begin().await?;
    for statement in statements {
        transaction.execute_unprepared(statement).await?;
    }
    transaction.commit().await?;
    Ok(files::Entity::find().count(db).await?)
}
