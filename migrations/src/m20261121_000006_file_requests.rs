//! File requests: a share link can take uploads into its folder (`share_requests` holds its
//! limits and counts); `share_uploads` remembers which visitor sent which file; a resumable
//! upload through a request remembers the link and the visitor until it becomes a file.

use sea_orm_migration::prelude::*;

use crate::cascade;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, string_len_null, text_null, timestamp_with_time_zone, uuid,
    uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Shares {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    ShareId,
    VisitorHash,
}

#[derive(DeriveIden)]
enum ShareRequests {
    Table,
    ShareId,
    MaxFileSize,
    MaxTotalBytes,
    MaxFiles,
    AllowedTypes,
    ReceivedFiles,
    ReceivedBytes,
}

#[derive(DeriveIden)]
enum ShareUploads {
    Table,
    FileId,
    ShareId,
    VisitorHash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShareRequests::Table)
                    .col(uuid(ShareRequests::ShareId).primary_key())
                    .col(big_integer_null(ShareRequests::MaxFileSize))
                    .col(big_integer_null(ShareRequests::MaxTotalBytes))
                    .col(big_integer_null(ShareRequests::MaxFiles))
                    .col(text_null(ShareRequests::AllowedTypes))
                    .col(big_integer(ShareRequests::ReceivedFiles))
                    .col(big_integer(ShareRequests::ReceivedBytes))
                    .foreign_key(&mut cascade(
                        (ShareRequests::Table, ShareRequests::ShareId),
                        (Shares::Table, Shares::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShareUploads::Table)
                    .col(uuid(ShareUploads::FileId).primary_key())
                    .col(uuid(ShareUploads::ShareId))
                    .col(string_len_null(ShareUploads::VisitorHash, 64))
                    .col(timestamp_with_time_zone(ShareUploads::CreatedAt))
                    .foreign_key(&mut cascade(
                        (ShareUploads::Table, ShareUploads::FileId),
                        (Files::Table, Files::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (ShareUploads::Table, ShareUploads::ShareId),
                        (Shares::Table, Shares::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_share_uploads_visitor")
                    .table(ShareUploads::Table)
                    .col(ShareUploads::ShareId)
                    .col(ShareUploads::VisitorHash)
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        for column in [uuid_null(Uploads::ShareId), string_len_null(Uploads::VisitorHash, 64)] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter().table(Uploads::Table).add_column(&mut column).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Uploads::VisitorHash.into_iden(), Uploads::ShareId.into_iden()] {
            manager
                .alter_table(Table::alter().table(Uploads::Table).drop_column(column).to_owned())
                .await?;
        }
        for table in [ShareUploads::Table.into_iden(), ShareRequests::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
