//! The text inside files, for search: `file_texts` holds, per file, what the extraction job
//! found (the first 256 KiB of text of a text, PDF or office file), the digest of the bytes it
//! came from (extracted again when they change), and why there is none. It goes with its file.
//! - SQLite: the FTS5 table gains a `content` column, kept by triggers on `file_texts` in the
//!   same transaction as the text.
//! - PostgreSQL: a generated `tsvector` of the folded text with a GIN index (words and word
//!   prefixes; names keep their trigram indexes), and an index of each account's files newest
//!   first (the order results come in).
//! - SQLite: `search_rows` renumbered in upload order (results come newest first by it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, text, text_null, timestamp_with_time_zone, uuid};
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::cascade;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FileTexts {
    Table,
    FileId,
    Sha256,
    Body,
    Error,
    ExtractedAt,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
}

/// The FTS table again, with `content`, filled from what is there.
const SQLITE_UP: &[&str] = &[
    // Numbered in upload order: searches read the newest first by this number.
    "DELETE FROM search_rows",
    "INSERT INTO search_rows (file_id) SELECT id FROM files ORDER BY created_at, id",
    "DROP TABLE search_fts",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, description, content, \
     tokenize = 'trigram remove_diacritics 1')",
    "INSERT INTO search_fts (rowid, name, description, content) \
       SELECT r.row, f.name, coalesce(f.description, ''), '' FROM files f \
       JOIN search_rows r ON r.file_id = f.id",
    "CREATE TRIGGER search_texts_insert AFTER INSERT ON file_texts BEGIN \
       UPDATE search_fts SET content = new.body \
         WHERE rowid = (SELECT row FROM search_rows WHERE file_id = new.file_id); \
     END",
    "CREATE TRIGGER search_texts_update AFTER UPDATE OF body ON file_texts BEGIN \
       UPDATE search_fts SET content = new.body \
         WHERE rowid = (SELECT row FROM search_rows WHERE file_id = new.file_id); \
     END",
    "CREATE TRIGGER search_texts_delete AFTER DELETE ON file_texts BEGIN \
       UPDATE search_fts SET content = '' \
         WHERE rowid = (SELECT row FROM search_rows WHERE file_id = old.file_id); \
     END",
    // Searches without a long word read an account's files newest first along this index.
    "CREATE INDEX idx_files_owner_created ON files (owner_id, created_at DESC, id DESC)",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP INDEX idx_files_owner_created",
    "DROP TRIGGER search_texts_delete",
    "DROP TRIGGER search_texts_update",
    "DROP TRIGGER search_texts_insert",
    "DROP TABLE search_fts",
    "CREATE VIRTUAL TABLE search_fts USING fts5(name, description, \
     tokenize = 'trigram remove_diacritics 1')",
    "INSERT INTO search_fts (rowid, name, description) \
       SELECT r.row, f.name, coalesce(f.description, '') FROM files f \
       JOIN search_rows r ON r.file_id = f.id",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE file_texts ADD COLUMN tsv tsvector \
     GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, pannier_fold(body))) STORED",
    "CREATE INDEX idx_file_texts_tsv ON file_texts USING gin (tsv)",
    // Searches read an account's files newest first (with many matches) along this index.
    "CREATE INDEX idx_files_owner_created ON files (owner_id, created_at DESC, id DESC)",
    // Few files have a description: a word of one or two letters (no trigram) is looked for
    // in those only.
    "CREATE INDEX idx_files_described ON files (owner_id) WHERE description IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FileTexts::Table)
                    .col(uuid(FileTexts::FileId).primary_key())
                    .col(string_len(FileTexts::Sha256, 64))
                    .col(text(FileTexts::Body))
                    .col(text_null(FileTexts::Error))
                    .col(timestamp_with_time_zone(FileTexts::ExtractedAt))
                    .foreign_key(&mut cascade(
                        (FileTexts::Table, FileTexts::FileId),
                        (Files::Table, Files::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        for statement in statements {
            manager.get_connection().execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            for index in ["idx_files_described", "idx_files_owner_created"] {
                let drop = format!("DROP INDEX {index}");
                manager.get_connection().execute_unprepared(&drop).await?;
            }
        } else {
            for statement in SQLITE_DOWN {
                manager.get_connection().execute_unprepared(statement).await?;
            }
        }
        manager.drop_table(Table::drop().table(FileTexts::Table).to_owned()).await
    }
}
