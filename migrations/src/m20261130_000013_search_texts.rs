//! SQLite: names and texts in two FTS indexes. `search_fts` keeps names only; the new
//! `search_texts` holds descriptions and the text inside files, under the same row numbers
//! (`search_rows`). A search reads the names index first (small: a word's entries are names),
//! and the texts index only for files matching outside their names — which had meant reading,
//! for every word, the entries of every name holding it too (30 ms per query at a million
//! files even with no text anywhere). A rename no longer indexes the file's text again. And
//! an index of the described files, as PostgreSQL has.
//! PostgreSQL: nothing (names, descriptions and texts have their own indexes already).

use sea_orm_migration::prelude::*;

use crate::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The row of the file `$id` (`new.id`, `old.file_id`…).
macro_rules! row_of {
    ($id:literal) => {
        concat!("(SELECT row FROM search_rows WHERE file_id = ", $id, ")")
    };
}

const SQLITE_UP: &[&str] = &[
    "DROP TRIGGER search_files_insert",
    "DROP TRIGGER search_files_update",
    "DROP TRIGGER search_files_delete",
    "DROP TRIGGER search_texts_insert",
    "DROP TRIGGER search_texts_update",
    "DROP TRIGGER search_texts_delete",
    "DROP TABLE search_fts",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, tokenize = 'trigram remove_diacritics 1')",
    "CREATE VIRTUAL TABLE search_texts USING fts5(description, content, \
     tokenize = 'trigram remove_diacritics 1')",
    concat!(
        "CREATE TRIGGER search_files_insert AFTER INSERT ON files BEGIN ",
        "INSERT INTO search_rows (file_id) VALUES (new.id); ",
        "INSERT INTO search_fts (rowid, name) VALUES (",
        row_of!("new.id"),
        ", new.name); ",
        "INSERT INTO search_texts (rowid, description, content) VALUES (",
        row_of!("new.id"),
        ", coalesce(new.description, ''), ''); END"
    ),
    concat!(
        "CREATE TRIGGER search_files_rename AFTER UPDATE OF name ON files BEGIN ",
        "UPDATE search_fts SET name = new.name WHERE rowid = ",
        row_of!("new.id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_files_describe AFTER UPDATE OF description ON files BEGIN ",
        "UPDATE search_texts SET description = coalesce(new.description, '') WHERE rowid = ",
        row_of!("new.id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_files_delete AFTER DELETE ON files BEGIN ",
        "DELETE FROM search_fts WHERE rowid = ",
        row_of!("old.id"),
        "; DELETE FROM search_texts WHERE rowid = ",
        row_of!("old.id"),
        "; DELETE FROM search_rows WHERE file_id = old.id; END"
    ),
    concat!(
        "CREATE TRIGGER search_texts_insert AFTER INSERT ON file_texts BEGIN ",
        "UPDATE search_texts SET content = new.body WHERE rowid = ",
        row_of!("new.file_id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_texts_update AFTER UPDATE OF body ON file_texts BEGIN ",
        "UPDATE search_texts SET content = new.body WHERE rowid = ",
        row_of!("new.file_id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_texts_delete AFTER DELETE ON file_texts BEGIN ",
        "UPDATE search_texts SET content = '' WHERE rowid = ",
        row_of!("old.file_id"),
        "; END"
    ),
    // Few files have a description: a short word outside the names is looked for in those.
    "CREATE INDEX idx_files_described ON files (owner_id) WHERE description IS NOT NULL",
    "INSERT INTO search_fts (rowid, name) \
     SELECT r.row, f.name FROM files f JOIN search_rows r ON r.file_id = f.id",
    "INSERT INTO search_texts (rowid, description, content) \
     SELECT r.row, coalesce(f.description, ''), coalesce(t.body, '') FROM files f \
     JOIN search_rows r ON r.file_id = f.id LEFT JOIN file_texts t ON t.file_id = f.id",
];

/// Back to one index of names, descriptions and texts.
const SQLITE_DOWN: &[&str] = &[
    "DROP INDEX idx_files_described",
    "DROP TRIGGER search_files_insert",
    "DROP TRIGGER search_files_rename",
    "DROP TRIGGER search_files_describe",
    "DROP TRIGGER search_files_delete",
    "DROP TRIGGER search_texts_insert",
    "DROP TRIGGER search_texts_update",
    "DROP TRIGGER search_texts_delete",
    "DROP TABLE search_texts",
    "DROP TABLE search_fts",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, description, content, \
     tokenize = 'trigram remove_diacritics 1')",
    concat!(
        "CREATE TRIGGER search_files_insert AFTER INSERT ON files BEGIN ",
        "INSERT INTO search_rows (file_id) VALUES (new.id); ",
        "INSERT INTO search_fts (rowid, name, description) VALUES (",
        row_of!("new.id"),
        ", new.name, coalesce(new.description, '')); END"
    ),
    concat!(
        "CREATE TRIGGER search_files_update AFTER UPDATE OF name, description ON files BEGIN ",
        "UPDATE search_fts SET name = new.name, description = coalesce(new.description, '') ",
        "WHERE rowid = ",
        row_of!("new.id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_files_delete AFTER DELETE ON files BEGIN ",
        "DELETE FROM search_fts WHERE rowid = ",
        row_of!("old.id"),
        "; DELETE FROM search_rows WHERE file_id = old.id; END"
    ),
    concat!(
        "CREATE TRIGGER search_texts_insert AFTER INSERT ON file_texts BEGIN ",
        "UPDATE search_fts SET content = new.body WHERE rowid = ",
        row_of!("new.file_id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_texts_update AFTER UPDATE OF body ON file_texts BEGIN ",
        "UPDATE search_fts SET content = new.body WHERE rowid = ",
        row_of!("new.file_id"),
        "; END"
    ),
    concat!(
        "CREATE TRIGGER search_texts_delete AFTER DELETE ON file_texts BEGIN ",
        "UPDATE search_fts SET content = '' WHERE rowid = ",
        row_of!("old.file_id"),
        "; END"
    ),
    "INSERT INTO search_fts (rowid, name, description, content) \
     SELECT r.row, f.name, coalesce(f.description, ''), coalesce(t.body, '') FROM files f \
     JOIN search_rows r ON r.file_id = f.id LEFT JOIN file_texts t ON t.file_id = f.id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, &[]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, &[]).await
    }
}
