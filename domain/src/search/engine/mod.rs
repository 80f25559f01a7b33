//! Runs a parsed [`Query`] over an account's files (or a link's): a page of results in up to three
//! phases, their snippets and folder paths; `reindex`. The statements themselves, the only
//! engine-specific SQL of search, are written in [`sql`].

mod fold;
mod sql;

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, Statement,
    TransactionTrait,
};
use uuid::Uuid;

use sql::{Below, PathsRead, Phase, Sql};

use super::extract::{MARK_END, MARK_START};
use super::query::{Query, Term};
use super::{FolderHit, SearchHit, SearchPage, SnippetPart};
use crate::AppError;
use crate::entities::{files, folders, users};
use crate::files::Children;
use crate::state::AppState;

/// The most results one page holds.
pub const MAX_LIMIT: u64 = 50;
/// The most folders a first page holds (above its files).
const FOLDERS_SHOWN: u64 = 5;

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

/// Files found, in order, each with the snippet of its text that matched (if any), and the
/// folders whose names match.
pub(crate) struct Found {
    pub files: Vec<(files::Model, Vec<SnippetPart>)>,
    pub folders: Vec<folders::Model>,
    pub next_cursor: Option<String>,
}

/// Page `cursor` (from the previous page) of `owner`'s files matching `query`: those whose
/// names hold every word first, then those whose names and folders above hold them, then the
/// rest, each newest upload first.
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
            let found = find(&state.db, scope, query, limit, cursor, true).await?;
            let parents = found.folders.iter().filter_map(|folder| folder.parent_id);
            let folders = found.files.iter().map(|(file, _)| file.folder_id).chain(parents);
            let paths = paths_below(&state.db, folders.collect(), None).await?;
            let path = |folder: Option<Uuid>| {
                let path = folder.and_then(|folder| paths.get(&folder));
                format!("/{}", path.map_or("", String::as_str))
            };
            let models: Vec<files::Model> =
                found.files.iter().map(|(file, _)| file.clone()).collect();
            let dtos = crate::files::file_dtos(&state.db, &models).await?;
            let hits = found
                .files
                .into_iter()
                .zip(dtos)
                .map(|((model, snippet), file)| SearchHit {
                    path: path(Some(model.folder_id)),
                    file,
                    snippet,
                })
                .collect();
            let folders = found
                .folders
                .iter()
                .map(|folder| FolderHit {
                    folder: crate::files::folder_dto(folder),
                    path: path(folder.parent_id),
                })
                .collect();
            Ok(SearchPage { folders, hits, next_cursor: found.next_cursor })
        })
        .await
}

/// One page of the files in `scope` matching `query` (on whichever connection `db` is), and
/// on the first, when `with_folders`, the newest few folders whose names match. Read in one
/// transaction: its statements see the same files. On PostgreSQL each statement is planned for
/// its own words: a plan made once for any words (which PostgreSQL switches to after a few
/// runs of the same statement) guesses how many rows a word matches, and guessed 14 where
/// 35,000 did (300 ms instead of 20). Nor is it compiled (JIT): a search's subqueries add up
/// to estimates past `jit_above_cost`, and compiling took 30–50 ms of a paths phase's 100.
pub(crate) async fn find(
    db: &DatabaseConnection,
    scope: Scope,
    query: &Query,
    limit: u64,
    cursor: Option<&str>,
    with_folders: bool,
) -> Result<Found, AppError> {
    let transaction = db.begin().await?;
    if transaction.get_database_backend() == DbBackend::Postgres {
        let settings = "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off";
        transaction.execute_unprepared(settings).await?;
    }
    let query = without_implied(query);
    let found =
        find_in(&transaction, scope, &query, limit, cursor, with_folders, sql::FEW_FILES).await?;
    transaction.commit().await?;
    Ok(found)
}

/// `query` without the words another of its words holds (`forest fores`: a name holding
/// `forest` holds `fores`): the same answer, one condition fewer to check per row.
fn without_implied(query: &Query) -> Query {
    let mut query = query.clone();
    let terms = std::mem::take(&mut query.terms);
    for (i, term) in terms.iter().enumerate() {
        let text = term.text();
        let implied = terms.iter().enumerate().any(|(j, other)| {
            j != i && other.text().contains(text) && (other.text() != text || j < i)
        });
        if !implied {
            query.terms.push(term.clone());
        }
    }
    query
}

/// [`find`] in its transaction; `few`: see [`paths_read`].
async fn find_in(
    db: &DatabaseTransaction,
    scope: Scope,
    query: &Query,
    limit: u64,
    cursor: Option<&str>,
    with_folders: bool,
    few: u64,
) -> Result<Found, AppError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let ranked = !query.terms.is_empty();
    let paths = sql::has_paths(scope, query);
    let (mut phase, mut offset) = Phase::of_cursor(cursor, ranked, paths)?;
    if query.is_empty() {
        return Ok(Found { files: Vec::new(), folders: Vec::new(), next_cursor: None });
    }
    let folders = if with_folders && cursor.is_none_or(str::is_empty) && query.finds_folders() {
        let mut sql = Sql::new(db.get_database_backend());
        sql.folders(scope, query, FOLDERS_SHOWN);
        let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
        folders::Entity::find().from_raw_sql(statement).all(db).await?
    } else {
        Vec::new()
    };
    // Names holding every word first, then names and the folders above them, then the rest:
    // each phase read newest first, in the order its index keeps, so a page stops reading
    // once it is full.
    let mut found: Vec<files::Model> = Vec::new();
    let mut reading = None;
    // Read once, by the first phase that looks at folders (the paths phase, or the others,
    // which leave out what the paths phase finds).
    let below = tokio::sync::OnceCell::new();
    let next_cursor = loop {
        let wanted = limit - found.len() as u64;
        let below: &Below = if paths && phase != Phase::Names {
            below.get_or_try_init(|| folders_below(db, scope.owner, query)).await?
        } else {
            &[]
        };
        if phase == Phase::Paths && reading.is_none() {
            reading = Some(paths_read(db, scope, query, below, few).await?);
        }
        let mut sql = Sql::new(db.get_database_backend());
        sql.select(scope, query, (phase, reading), below, (wanted + 1, offset));
        let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
        let mut rows = files::Entity::find().from_raw_sql(statement).all(db).await?;
        if let (Phase::Paths, Some(PathsRead::Word(_)), DbBackend::Sqlite) =
            (phase, reading, db.get_database_backend())
        {
            let page = paths_of_few(query, below, rows).into_iter();
            let offset = usize::try_from(offset).unwrap_or(usize::MAX);
            rows =
                page.skip(offset).take(usize::try_from(wanted + 1).unwrap_or(usize::MAX)).collect();
        }
        if rows.len() as u64 > wanted {
            rows.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
            found.extend(rows);
            break Some(phase.cursor(offset + wanted));
        }
        found.extend(rows);
        match phase.next(paths) {
            Some(next) => (phase, offset) = (next, 0),
            None => break None,
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
    Ok(Found { files, folders, next_cursor })
}

/// How the paths phase reads: the files of the word with the fewest — names holding it and
/// files in the folders it names — if that is `few` or fewer ([`sql::FEW_FILES`]); else the
/// account's newest files (on PostgreSQL 20,000 of them; on SQLite the names holding some word
/// among them, read newest first, which fills a page soon when every word has many files).
/// Reading every name holding some word instead took 500 ms at a million files for `receipt
/// chap 1659` (few files in folder `… 1659`, every one of the others read to find them).
async fn paths_read(
    db: &impl ConnectionTrait,
    scope: Scope,
    query: &Query,
    below: &Below,
    few: u64,
) -> Result<PathsRead, AppError> {
    let long: Vec<(usize, &Term)> =
        query.terms.iter().enumerate().filter(|(_, term)| sql::has_trigram(term)).collect();
    if long.is_empty() {
        // Short words only: the account's newest files, like the other phases.
        return Ok(PathsRead::Newest(None));
    }
    let mut sql = Sql::new(db.get_database_backend());
    let words: Vec<(&Term, &[Uuid])> = long
        .iter()
        .map(|(i, term)| (*term, below.get(*i).map_or(&[][..], Vec::as_slice)))
        .collect();
    sql.paths_plan(scope.owner, &words);
    let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(PathsRead::Newest(None));
    };
    let mut fewest = None;
    for (i, (place, _)) in long.into_iter().enumerate() {
        let count: i64 = row.try_get("", &format!("c{i}"))?;
        if count <= few as i64 && fewest.is_none_or(|(least, _)| count < least) {
            fewest = Some((count, place));
        }
    }
    if let Some((_, place)) = fewest {
        return Ok(PathsRead::Word(place));
    }
    let since = match sql.backend {
        DbBackend::Postgres => None,
        _ => row.try_get::<Option<i64>>("", "since")?,
    };
    Ok(PathsRead::Newest(since))
}

/// SQLite's paths phase over the few files of a word, read whole: those whose names hold some
/// word and whose names or folders above hold each. Names are checked folded here as the names
/// index folds them ([`fold::fold`]; words of one or two characters as `LIKE` compares them),
/// not through the index: it collects each common word's matches for that (11–30 ms a word at
/// a million names), or costs 0.4 ms a name.
fn paths_of_few(query: &Query, below: &Below, files: Vec<files::Model>) -> Vec<files::Model> {
    let below: Vec<HashSet<Uuid>> =
        below.iter().map(|folders| folders.iter().copied().collect()).collect();
    // Each word as the statements compare it with a name: folded as the names index folds,
    // or (one or two characters) as `LIKE` does, ASCII letters in either case.
    let words: Vec<(bool, String)> = query
        .terms
        .iter()
        .map(|term| {
            let long = sql::has_trigram(term);
            let text = term.text();
            (long, if long { fold::fold(text) } else { text.to_ascii_lowercase() })
        })
        .collect();
    files
        .into_iter()
        .filter(|file| {
            let (folded, lower) = (fold::fold(&file.name), file.name.to_ascii_lowercase());
            let in_name: Vec<bool> = words
                .iter()
                .map(
                    |(long, word)| if *long { folded.contains(word) } else { lower.contains(word) },
                )
                .collect();
            let mut each = in_name.iter().zip(&below);
            each.all(|(in_name, below)| *in_name || below.contains(&file.folder_id))
                && in_name.contains(&true)
        })
        .collect()
}

/// The folders each of `query`'s words names and every folder below them, by word (see
/// [`Below`]). An account has thousands of folders where it has millions of files, so a
/// folder's path is never stored per file (a rename would rewrite them all) but found from the
/// folders a word names: their names matched by the database, as its indexes fold them; the
/// folders below them walked here in the owner's tree held in memory
/// ([`crate::cache::folder_tree`]). Walked by the database instead, each folder cost 6 µs — 19
/// ms for a word whose folders hold 2,935 at a million files — and a search walked each word
/// two or three times.
async fn folders_below(
    db: &impl ConnectionTrait,
    owner: Uuid,
    query: &Query,
) -> Result<Vec<Vec<Uuid>>, AppError> {
    let generation = crate::cache::tree_generation(owner);
    let load = async { Ok(std::sync::Arc::new(Children::load(db, owner).await?)) };
    let tree = crate::cache::folder_tree(owner, generation, load).await?;
    let mut sql = Sql::new(db.get_database_backend());
    sql.folders_named(owner, query);
    let statement = Statement::from_sql_and_values(sql.backend, sql.text, sql.values);
    let mut named = vec![Vec::new(); query.terms.len()];
    for row in db.query_all_raw(statement).await? {
        let word: i64 = row.try_get("", "word")?;
        let folders = usize::try_from(word).ok().and_then(|word| named.get_mut(word));
        folders.ok_or(AppError::Internal)?.push(row.try_get::<Uuid>("", "id")?);
    }
    Ok(named.into_iter().map(|roots| tree.and_below(roots)).collect())
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

/// `Photos/2026` for each folder, below `top` (the owner's root when `None`; `""` for `top`
/// itself): the folders and their ancestors up to `top` read a level at a time, never one by
/// one, and never the rest of the tree.
pub(crate) async fn paths_below(
    db: &impl ConnectionTrait,
    wanted: Vec<Uuid>,
    top: Option<Uuid>,
) -> Result<HashMap<Uuid, String>, AppError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut known: HashMap<Uuid, folders::Model> = HashMap::new();
    let mut missing: Vec<Uuid> = wanted.clone();
    for _ in 0..=crate::files::MAX_DEPTH {
        missing.sort_unstable();
        missing.dedup();
        missing.retain(|id| !known.contains_key(id) && Some(*id) != top);
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
        while Some(id) != top
            && let Some(folder) = known.get(&id)
        {
            if !folder.name.is_empty() {
                names.push(folder.name.as_str());
            }
            match folder.parent_id {
                Some(parent) if names.len() <= crate::files::MAX_DEPTH => id = parent,
                _ => break,
            }
        }
        names.reverse();
        names.join("/")
    };
    Ok(wanted.iter().map(|id| (*id, path_of(*id))).collect())
}

/// Rebuilds the index from the files (`pannier search reindex`): after a restore from a
/// backup taken without it, or to repair it: files and folders. In one transaction on SQLite
/// (searches see the old index or the new, never half); PostgreSQL rebuilds its four indexes.
/// How many files it holds.
pub async fn reindex(db: &DatabaseConnection) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    let statements: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &[
            "REINDEX INDEX idx_files_name_fold_trgm",
            "REINDEX INDEX idx_files_description_trgm",
            "REINDEX INDEX idx_file_texts_tsv",
            "REINDEX INDEX idx_folders_name_trgm",
        ],
        _ => &[
            "DELETE FROM search_fts",
            "DELETE FROM search_rows",
            // Numbered in upload order: searches read the newest first by this number.
            "INSERT INTO search_rows (file_id) SELECT id FROM files ORDER BY created_at, id",
            "INSERT INTO search_fts (rowid, name) \
             SELECT r.row, f.name FROM files f JOIN search_rows r ON r.file_id = f.id",
            "DELETE FROM search_texts",
            "INSERT INTO search_texts (rowid, description, content) \
             SELECT r.row, coalesce(f.description, ''), coalesce(t.body, '') FROM files f \
             JOIN search_rows r ON r.file_id = f.id LEFT JOIN file_texts t ON t.file_id = f.id",
            "DELETE FROM search_folders",
            "DELETE FROM search_folder_rows",
            "INSERT INTO search_folder_rows (folder_id) \
             SELECT id FROM folders WHERE parent_id IS NOT NULL ORDER BY created_at, id",
            "INSERT INTO search_folders (rowid, name) \
             SELECT r.row, d.name FROM folders d JOIN search_folder_rows r ON r.folder_id = d.id",
            // Each index merged into one segment: a word's matches are read 10–25 % faster
            // than from the segments the inserts leave (a million names: 2 s more here).
            "INSERT INTO search_fts (search_fts) VALUES ('optimize')",
            "INSERT INTO search_texts (search_texts) VALUES ('optimize')",
            "INSERT INTO search_folders (search_folders) VALUES ('optimize')",
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

    /// The folders a search stays within are walked by the database: 40,000 of them would have
    /// been more values than SQLite binds in one statement (32,766).
    #[tokio::test]
    async fn a_search_within_forty_thousand_folders_binds_none_of_them() {
        use sea_orm::{ConnectionTrait, Statement};

        use crate::files::{FileName, create_folder};
        use crate::ids::FolderRef;
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let big = create_folder(&t.state, &ada, FolderRef::Root, &FileName::parse("Big").unwrap())
            .await
            .expect("a folder")
            .id
            .uuid();
        let db = &t.state.db;
        let insert = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) \
             INSERT INTO folders (id, owner_id, parent_id, name, created_at, updated_at) \
             SELECT randomblob(16), ?, ?, 'sub ' || i, ?, ? FROM n";
        let now = chrono::Utc::now();
        let values = [ada.id.into(), big.into(), now.into(), now.into()];
        db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), insert, values))
            .await
            .expect("40,000 folders");
        let deep = t.file(&ada, "deep-note.txt", b"x").await;
        let moved = "UPDATE files SET folder_id = \
             (SELECT id FROM folders WHERE name = 'sub 39999') WHERE id = ?";
        let values = [deep.id.uuid().into()];
        db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), moved, values))
            .await
            .expect("moved");

        let query = super::super::parse("deep in:big").expect("parsed");
        let page = super::search(&t.state, &ada, &query, 10, None).await.expect("searched");
        assert_eq!(page.hits.len(), 1);
        assert_eq!(page.hits[0].path, "/Big/sub 39999");
        let shared = super::Scope { owner: ada.id, below: Some(big), share: None };
        let query = super::super::parse("deep").expect("parsed");
        let found = super::find(db, shared, &query, 10, None, false).await.expect("found");
        assert_eq!(found.files.len(), 1, "a link to the big folder finds it");
    }

    /// The paths phase finds the same files, in the same order, whichever it reads: the files
    /// of the word with the fewest (names holding it, files in the folders it names), or the
    /// names holding some word (when no word has few).
    #[tokio::test]
    async fn the_paths_phase_finds_the_same_whichever_files_it_reads() {
        use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

        use crate::files::{FileName, create_folder};
        use crate::ids::FolderRef;
        let t = TestState::new().await;
        let ada = t.user("ada@example.com").await;
        let bob = t.user("bob@example.com").await;
        let mut folders = Vec::new();
        for (parent, name) in
            [(None, "Photos"), (Some(0), "2018"), (Some(1), "Sunset"), (Some(0), "2019")]
        {
            let parent = parent.map_or(FolderRef::Root, |i| FolderRef::Id(folders[i]));
            let name = FileName::parse(name).expect("a name");
            folders.push(create_folder(&t.state, &ada, parent, &name).await.expect("a folder").id);
        }
        let bobs =
            create_folder(&t.state, &bob, FolderRef::Root, &FileName::parse("2018").unwrap())
                .await
                .expect("bob's folder")
                .id;
        let placed = [
            (&ada, None, "beach-2018.jpg"),
            (&ada, Some(folders[1]), "beach.jpg"),
            (&ada, Some(folders[2]), "beach-hut.png"),
            (&ada, Some(folders[3]), "beach 2019.jpg"),
            (&ada, Some(folders[2]), "sunset-2018.txt"),
            (&ada, None, "photos of the beach.md"),
            (&ada, Some(folders[1]), "lake.jpg"),
            (&ada, Some(folders[2]), "Café sunset.jpg"),
            (&bob, Some(bobs), "beach.jpg"),
        ];
        let db = &t.state.db;
        for (owner, folder, name) in placed {
            let file = t.file(owner, name, b"x").await;
            if let Some(folder) = folder {
                let moved = "UPDATE files SET folder_id = ? WHERE id = ?";
                let values = [folder.uuid().into(), file.id.uuid().into()];
                db.execute_raw(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    moved,
                    values,
                ))
                .await
                .expect("moved");
            }
        }
        let scope = super::Scope { owner: ada.id, below: None, share: None };
        let queries = [
            ("2018 beach", 3),
            ("beach 2018", 3),
            ("photos 2018 beach", 2),
            ("beach sunset", 1),
            ("sunset beach 2018", 1),
            ("2018 beach -hut", 2),
            ("beach ph", 4),
            ("photos beach", 4),
            ("sunset cafe", 1),
            ("2018 lake", 1),
            ("18 beach", 3),
            ("hut 2019", 0),
        ];
        for (q, count) in queries {
            let query = super::super::parse(q).expect("parsed");
            let mut found = Vec::new();
            for few in [super::sql::FEW_FILES, 0] {
                let transaction = db.begin().await.expect("a transaction");
                let page = super::find_in(&transaction, scope, &query, 50, None, false, few)
                    .await
                    .expect("found");
                let names: Vec<String> =
                    page.files.into_iter().map(|(file, _)| file.name).collect();
                found.push(names);
            }
            assert_eq!(found[0], found[1], "{q}");
            assert_eq!(found[0].len(), count, "{q}: {:?}", found[0]);
        }
    }

    #[test]
    fn words_another_word_holds_are_dropped() {
        let query =
            super::super::parse("forest fores Forest \"forest walk\" walk -fores").expect("parsed");
        let kept = super::without_implied(&query);
        let words: Vec<&str> = kept.terms.iter().map(|term| term.text()).collect();
        assert_eq!(words, ["forest walk"]);
        assert_eq!(kept.excluded, query.excluded, "exclusions stay");
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
            super::sql::ts_query(&Term::Word("o'brien".into())).as_deref(),
            Some("'o' <-> 'brien':*")
        );
        assert_eq!(
            super::sql::ts_query(&Term::Phrase("paid in".into())).as_deref(),
            Some("'paid' <-> 'in'")
        );
        assert_eq!(super::sql::ts_query(&Term::Word("--".into())), None);
        assert_eq!(
            super::sql::ts_query(&Term::Word("a:*|!b".into())).as_deref(),
            Some("'a' <-> 'b':*")
        );
    }
}
