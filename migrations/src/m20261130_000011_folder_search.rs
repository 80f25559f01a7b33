//! Folders in search: their names indexed as file names are, kept by the database in the same
//! transaction as the folder (create, rename, delete):
//! - SQLite: an FTS5 table with the same trigram tokenizer as `search_fts`, filled by triggers
//!   on `folders`; `search_folder_rows` maps each folder to its FTS row (an INTEGER PRIMARY
//!   KEY, numbered in creation order: newest first is the highest).
//! - PostgreSQL: a trigram GIN index on the folded name (`pannier_fold`).
//!
//! The root folder (no name) is not indexed. Both engines gain an index of each account's
//! folders, newest first.

use sea_orm_migration::prelude::*;

use crate::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE search_folder_rows (row INTEGER PRIMARY KEY, folder_id NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE search_folders USING fts5(name, \
     tokenize = 'trigram remove_diacritics 1')",
    "CREATE TRIGGER search_folders_insert AFTER INSERT ON folders WHEN new.parent_id IS NOT NULL \
     BEGIN \
       INSERT INTO search_folder_rows (folder_id) VALUES (new.id); \
       INSERT INTO search_folders (rowid, name) VALUES \
         ((SELECT row FROM search_folder_rows WHERE folder_id = new.id), new.name); \
     END",
    "CREATE TRIGGER search_folders_update AFTER UPDATE OF name ON folders BEGIN \
       UPDATE search_folders SET name = new.name \
         WHERE rowid = (SELECT row FROM search_folder_rows WHERE folder_id = new.id); \
     END",
    "CREATE TRIGGER search_folders_delete AFTER DELETE ON folders BEGIN \
       DELETE FROM search_folders \
         WHERE rowid = (SELECT row FROM search_folder_rows WHERE folder_id = old.id); \
       DELETE FROM search_folder_rows WHERE folder_id = old.id; \
     END",
    "INSERT INTO search_folder_rows (folder_id) \
       SELECT id FROM folders WHERE parent_id IS NOT NULL ORDER BY created_at, id",
    "INSERT INTO search_folders (rowid, name) \
       SELECT r.row, d.name FROM folders d JOIN search_folder_rows r ON r.folder_id = d.id",
    OWNER_INDEX,
];

/// An account's folders, newest first: folders named by words too short for the name index,
/// and the folders `in:` names, are looked for among the account's own (not everyone's).
const OWNER_INDEX: &str =
    "CREATE INDEX idx_folders_owner_created ON folders (owner_id, created_at DESC, id DESC)";

const SQLITE_DOWN: &[&str] = &[
    "DROP INDEX idx_folders_owner_created",
    "DROP TRIGGER search_folders_delete",
    "DROP TRIGGER search_folders_update",
    "DROP TRIGGER search_folders_insert",
    "DROP TABLE search_folders",
    "DROP TABLE search_folder_rows",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE INDEX idx_folders_name_trgm ON folders USING gin (pannier_fold(name) gin_trgm_ops)",
    OWNER_INDEX,
];

const POSTGRES_DOWN: &[&str] =
    &["DROP INDEX idx_folders_owner_created", "DROP INDEX idx_folders_name_trgm"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
