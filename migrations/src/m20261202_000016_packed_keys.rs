//! Room for packed files' keys: a small file's bytes on local disk sit in a pack, and its key
//! names the place (`packed/<id>/<pack>/<offset>/<length>`, up to 122 characters), longer
//! than the 64 a `blobs/<uuid>` key needed. Widening a `varchar` rewrites nothing on
//! PostgreSQL; SQLite does not enforce the length.

use sea_orm_migration::prelude::*;

use crate::run;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let widen = [
            "ALTER TABLE files ALTER COLUMN blob_key TYPE varchar(160)",
            "ALTER TABLE blob_deletions ALTER COLUMN blob_key TYPE varchar(160)",
        ];
        run(manager, &[], &widen).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let narrow = [
            "ALTER TABLE files ALTER COLUMN blob_key TYPE varchar(64)",
            "ALTER TABLE blob_deletions ALTER COLUMN blob_key TYPE varchar(64)",
        ];
        run(manager, &[], &narrow).await
    }
}
