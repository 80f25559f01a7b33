//! Words of a file's folder path in search (`2018 beach` finds `Trips/2018/beach-day.jpg`):
//! - Both engines: each folder's path below the root (`folders.path`, `Trips/2018`; `''` for
//!   the root), set by the database when a folder is made, renamed or moved. The folders below
//!   one renamed or moved are rewritten by the search service in the same transaction
//!   (`domain::search::folder_moved`: a recursive walk, which a SQLite trigger cannot run).
//! - SQLite: the names index gains a `path` column (the file's folder path), kept by triggers
//!   on `files` (upload, move) and by the search service for the files below a moved folder.
//! - PostgreSQL: `files.path_fold`, the folded path and name (`trips/2018/beach-day.jpg`), set
//!   by a trigger when a file is written, renamed or moved, with a trigram index.

use sea_orm_migration::prelude::*;

use crate::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every folder's path, from the root's children down.
const FOLDER_PATHS: &str = "WITH RECURSIVE p(id, path) AS ( \
       SELECT c.id, CAST(c.name AS TEXT) FROM folders c JOIN folders r ON r.id = c.parent_id \
       WHERE r.parent_id IS NULL \
     UNION ALL \
       SELECT c.id, p.path || '/' || c.name FROM folders c JOIN p ON c.parent_id = p.id) \
     UPDATE folders SET path = p.path FROM p WHERE folders.id = p.id";

/// The path of the folder `new.parent_id` with a `/` after it (`''` for the root).
macro_rules! below_parent {
    () => {
        "coalesce((SELECT CASE WHEN p.path = '' THEN '' ELSE p.path || '/' END \
         FROM folders p WHERE p.id = new.parent_id), '')"
    };
}

const SQLITE_UP: &[&str] = &[
    "ALTER TABLE folders ADD COLUMN path TEXT NOT NULL DEFAULT ''",
    FOLDER_PATHS,
    concat!(
        "CREATE TRIGGER folders_path_insert AFTER INSERT ON folders ",
        "WHEN new.parent_id IS NOT NULL BEGIN ",
        "UPDATE folders SET path = ",
        below_parent!(),
        " || new.name WHERE id = new.id; END"
    ),
    concat!(
        "CREATE TRIGGER folders_path_update AFTER UPDATE OF name, parent_id ON folders ",
        "WHEN new.parent_id IS NOT NULL BEGIN ",
        "UPDATE folders SET path = ",
        below_parent!(),
        " || new.name WHERE id = new.id; END"
    ),
    "DROP TRIGGER search_files_insert",
    "DROP TABLE search_fts",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, path, \
     tokenize = 'trigram remove_diacritics 1')",
    "INSERT INTO search_fts (rowid, name, path) \
     SELECT r.row, f.name, d.path FROM files f JOIN search_rows r ON r.file_id = f.id \
     JOIN folders d ON d.id = f.folder_id",
    "CREATE TRIGGER search_files_insert AFTER INSERT ON files BEGIN \
       INSERT INTO search_rows (file_id) VALUES (new.id); \
       INSERT INTO search_fts (rowid, name, path) VALUES \
         ((SELECT row FROM search_rows WHERE file_id = new.id), new.name, \
          (SELECT path FROM folders WHERE id = new.folder_id)); \
       INSERT INTO search_texts (rowid, description, content) VALUES \
         ((SELECT row FROM search_rows WHERE file_id = new.id), coalesce(new.description, ''), ''); \
     END",
    "CREATE TRIGGER search_files_move AFTER UPDATE OF folder_id ON files BEGIN \
       UPDATE search_fts SET path = (SELECT path FROM folders WHERE id = new.folder_id) \
         WHERE rowid = (SELECT row FROM search_rows WHERE file_id = new.id); \
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER search_files_move",
    "DROP TRIGGER search_files_insert",
    "DROP TABLE search_fts",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, tokenize = 'trigram remove_diacritics 1')",
    "INSERT INTO search_fts (rowid, name) \
     SELECT r.row, f.name FROM files f JOIN search_rows r ON r.file_id = f.id",
    "CREATE TRIGGER search_files_insert AFTER INSERT ON files BEGIN \
       INSERT INTO search_rows (file_id) VALUES (new.id); \
       INSERT INTO search_fts (rowid, name) VALUES \
         ((SELECT row FROM search_rows WHERE file_id = new.id), new.name); \
       INSERT INTO search_texts (rowid, description, content) VALUES \
         ((SELECT row FROM search_rows WHERE file_id = new.id), coalesce(new.description, ''), ''); \
     END",
    "DROP TRIGGER folders_path_update",
    "DROP TRIGGER folders_path_insert",
    "ALTER TABLE folders DROP COLUMN path",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE folders ADD COLUMN path text NOT NULL DEFAULT ''",
    FOLDER_PATHS,
    concat!(
        "CREATE FUNCTION pannier_folder_path() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ",
        "IF new.parent_id IS NOT NULL THEN new.path := ",
        below_parent!(),
        " || new.name; END IF; RETURN new; END $$"
    ),
    "CREATE TRIGGER folders_path BEFORE INSERT OR UPDATE OF name, parent_id ON folders \
     FOR EACH ROW EXECUTE FUNCTION pannier_folder_path()",
    "ALTER TABLE files ADD COLUMN path_fold text NOT NULL DEFAULT ''",
    "UPDATE files f SET path_fold = \
     pannier_fold(CASE WHEN d.path = '' THEN '' ELSE d.path || '/' END || f.name) \
     FROM folders d WHERE d.id = f.folder_id",
    "CREATE FUNCTION pannier_file_path() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       new.path_fold := pannier_fold(coalesce((SELECT CASE WHEN d.path = '' THEN '' \
         ELSE d.path || '/' END FROM folders d WHERE d.id = new.folder_id), '') || new.name); \
       RETURN new; END $$",
    "CREATE TRIGGER files_path BEFORE INSERT OR UPDATE OF name, folder_id ON files \
     FOR EACH ROW EXECUTE FUNCTION pannier_file_path()",
    "CREATE INDEX idx_files_path_fold_trgm ON files USING gin (path_fold gin_trgm_ops)",
    "ALTER TABLE files ALTER COLUMN path_fold SET STATISTICS 1000",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX idx_files_path_fold_trgm",
    "DROP TRIGGER files_path ON files",
    "DROP FUNCTION pannier_file_path()",
    "ALTER TABLE files DROP COLUMN path_fold",
    "DROP TRIGGER folders_path ON folders",
    "DROP FUNCTION pannier_folder_path()",
    "ALTER TABLE folders DROP COLUMN path",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
