//! `upload_keys`: the `Idempotency-Key` an account sent with a `PUT` upload, and the file it
//! made. A retry with the same key (its answer was lost: a dropped connection, an instance
//! killed after the commit) gets that file instead of a second copy. Kept a day; goes with its
//! file and its account.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, timestamp_with_time_zone, uuid};

use crate::cascade;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UploadKeys {
    Table,
    OwnerId,
    Key,
    FileId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UploadKeys::Table)
                    .col(uuid(UploadKeys::OwnerId))
                    .col(string_len(UploadKeys::Key, 255))
                    .col(uuid(UploadKeys::FileId))
                    .col(timestamp_with_time_zone(UploadKeys::CreatedAt))
                    .primary_key(Index::create().col(UploadKeys::OwnerId).col(UploadKeys::Key))
                    .foreign_key(&mut cascade(
                        (UploadKeys::Table, UploadKeys::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (UploadKeys::Table, UploadKeys::FileId),
                        (Files::Table, Files::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Housekeeping forgets the old ones.
        manager
            .create_index(
                Index::create()
                    .name("idx_upload_keys_created")
                    .table(UploadKeys::Table)
                    .col(UploadKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UploadKeys::Table).to_owned()).await
    }
}
