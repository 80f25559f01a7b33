//! Search over file names and descriptions, kept by the database itself so the index changes
//! in the same transaction as the file (an upload, rename, description edit or delete can never
//! leave it behind):
//! - SQLite: an FTS5 table with the trigram tokenizer (substrings and prefixes of 3+ characters,
//!   case and accents folded), filled by triggers on `files`; `search_rows` maps each file to
//!   the FTS row (an INTEGER PRIMARY KEY, so a VACUUM cannot renumber it).
//! - PostgreSQL: trigram GIN indexes (`pg_trgm`) on the case- and accent-folded name and
//!   description (`pannier_fold`, over `unaccent`); the index is the table's own.

use sea_orm_migration::prelude::*;

use crate::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE search_rows (row INTEGER PRIMARY KEY, file_id NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, description, \
     tokenize = 'trigram remove_diacritics 1')",
    "CREATE TRIGGER search_files_insert AFTER INSERT ON files BEGIN \
       INSERT INTO search_rows (file_id) VALUES (new.id); \
       INSERT INTO search_fts (rowid, name, description) VALUES \
         ((SELECT row FROM search_rows WHERE file_id = new.id), new.name, \
          coalesce(new.description, '')); \
     END",
    "CREATE TRIGGER search_files_update AFTER UPDATE OF name, description ON files BEGIN \
       UPDATE search_fts SET name = new.name, description = coalesce(new.description, '') \
         WHERE rowid = (SELECT row FROM search_rows WHERE file_id = new.id); \
     END",
    "CREATE TRIGGER search_files_delete AFTER DELETE ON files BEGIN \
       DELETE FROM search_fts WHERE rowid = (SELECT row FROM search_rows WHERE file_id = old.id); \
       DELETE FROM search_rows WHERE file_id = old.id; \
     END",
    "INSERT INTO search_rows (file_id) SELECT id FROM files",
    "INSERT INTO search_fts (rowid, name, description) \
       SELECT r.row, f.name, coalesce(f.description, '') FROM files f \
       JOIN search_rows r ON r.file_id = f.id",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER search_files_delete",
    "DROP TRIGGER search_files_update",
    "DROP TRIGGER search_files_insert",
    "DROP TABLE search_fts",
    "DROP TABLE search_rows",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    // unaccent() is only STABLE (its dictionary could change); naming the dictionary makes the
    // result depend on the text alone, so the wrapper may be IMMUTABLE and indexed.
    "CREATE FUNCTION pannier_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT \
     AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$",
    "CREATE INDEX idx_files_name_trgm ON files USING gin (pannier_fold(name) gin_trgm_ops)",
    "CREATE INDEX idx_files_description_trgm ON files \
     USING gin (pannier_fold(coalesce(description, '')) gin_trgm_ops)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX idx_files_description_trgm",
    "DROP INDEX idx_files_name_trgm",
    "DROP FUNCTION pannier_fold(text)",
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
