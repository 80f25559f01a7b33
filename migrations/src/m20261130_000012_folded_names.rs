//! PostgreSQL: each file's name folded once, when written (`name_fold`, a stored generated
//! column of `pannier_fold(name)`), with the trigram index on it instead of on the expression.
//! A search checking thousands of candidate rows compared `pannier_fold(name)` for each — an
//! `unaccent` call per row, most of a slow query's time at a million files. Its statistics
//! sample is larger, so the planner's guesses of how many names hold a word are close.
//! SQLite: nothing (its FTS index folds as it indexes).

use sea_orm_migration::prelude::*;

use crate::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE files ADD COLUMN name_fold text \
     GENERATED ALWAYS AS (pannier_fold(name)) STORED",
    "CREATE INDEX idx_files_name_fold_trgm ON files USING gin (name_fold gin_trgm_ops)",
    "DROP INDEX idx_files_name_trgm",
    // A larger sample of names: the planner guesses how many names hold a word from it, and
    // from the default one guessed 110 where 39,000 did (then read them all, 200 ms, instead
    // of the newest few along the owner/age index, 1 ms).
    "ALTER TABLE files ALTER COLUMN name_fold SET STATISTICS 1000",
];

const POSTGRES_DOWN: &[&str] = &[
    "CREATE INDEX idx_files_name_trgm ON files USING gin (pannier_fold(name) gin_trgm_ops)",
    "ALTER TABLE files DROP COLUMN name_fold",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &[], POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &[], POSTGRES_DOWN).await
    }
}
