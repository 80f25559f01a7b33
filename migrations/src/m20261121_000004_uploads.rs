//! Resumable (tus) uploads in progress: everything needed to continue one on any instance.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, string_len, string_len_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    OwnerId,
    FolderId,
    RelativeDir,
    Name,
    Length,
    Received,
    HashState,
    BlobKey,
    MultipartId,
    Parts,
    TailKey,
    Direct,
    LeaseToken,
    LeaseUntil,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Uploads::Table)
                    .col(uuid(Uploads::Id).primary_key())
                    .col(uuid(Uploads::OwnerId))
                    .col(uuid(Uploads::FolderId))
                    .col(text_null(Uploads::RelativeDir))
                    .col(text(Uploads::Name))
                    .col(big_integer(Uploads::Length))
                    .col(big_integer(Uploads::Received))
                    .col(text_null(Uploads::HashState))
                    .col(string_len(Uploads::BlobKey, 64))
                    .col(text_null(Uploads::MultipartId))
                    .col(text(Uploads::Parts))
                    .col(string_len_null(Uploads::TailKey, 128))
                    .col(boolean(Uploads::Direct))
                    .col(uuid_null(Uploads::LeaseToken))
                    .col(timestamp_with_time_zone_null(Uploads::LeaseUntil))
                    .col(timestamp_with_time_zone(Uploads::ExpiresAt))
                    .col(timestamp_with_time_zone(Uploads::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Uploads::Table, Uploads::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in
            [("idx_uploads_owner", Uploads::OwnerId), ("idx_uploads_expires", Uploads::ExpiresAt)]
        {
            manager
                .create_index(
                    Index::create().name(name).table(Uploads::Table).col(column).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Uploads::Table).to_owned()).await
    }
}
