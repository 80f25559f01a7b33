//! Share links: the links, the files a selection names, and each link's access log.

use sea_orm_migration::prelude::*;

use crate::cascade;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, string_len, string_len_null, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Folders {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shares {
    Table,
    Id,
    OwnerId,
    Slug,
    SlugHash,
    Label,
    FolderId,
    PasswordHash,
    ExpiresAt,
    MaxDownloads,
    Downloads,
    Views,
    AllowZip,
    RevokedAt,
    LastAccessAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ShareFiles {
    Table,
    ShareId,
    FileId,
}

#[derive(DeriveIden)]
enum ShareEvents {
    Table,
    Id,
    ShareId,
    Kind,
    Ip,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Shares::Table)
                    .col(uuid(Shares::Id).primary_key())
                    .col(uuid(Shares::OwnerId))
                    .col(string_len(Shares::Slug, 64))
                    .col(string_len(Shares::SlugHash, 64).unique_key())
                    .col(text_null(Shares::Label))
                    .col(uuid_null(Shares::FolderId))
                    .col(text_null(Shares::PasswordHash))
                    .col(timestamp_with_time_zone_null(Shares::ExpiresAt))
                    .col(big_integer_null(Shares::MaxDownloads))
                    .col(big_integer(Shares::Downloads))
                    .col(big_integer(Shares::Views))
                    .col(boolean(Shares::AllowZip))
                    .col(timestamp_with_time_zone_null(Shares::RevokedAt))
                    .col(timestamp_with_time_zone_null(Shares::LastAccessAt))
                    .col(timestamp_with_time_zone(Shares::CreatedAt))
                    .foreign_key(&mut cascade(
                        (Shares::Table, Shares::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (Shares::Table, Shares::FolderId),
                        (Folders::Table, Folders::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_shares_owner")
                    .table(Shares::Table)
                    .col(Shares::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShareFiles::Table)
                    .col(uuid(ShareFiles::ShareId))
                    .col(uuid(ShareFiles::FileId))
                    .primary_key(Index::create().col(ShareFiles::ShareId).col(ShareFiles::FileId))
                    .foreign_key(&mut cascade(
                        (ShareFiles::Table, ShareFiles::ShareId),
                        (Shares::Table, Shares::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (ShareFiles::Table, ShareFiles::FileId),
                        (Files::Table, Files::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShareEvents::Table)
                    .col(uuid(ShareEvents::Id).primary_key())
                    .col(uuid(ShareEvents::ShareId))
                    .col(string_len(ShareEvents::Kind, 16))
                    .col(string_len_null(ShareEvents::Ip, 64))
                    .col(timestamp_with_time_zone(ShareEvents::CreatedAt))
                    .foreign_key(&mut cascade(
                        (ShareEvents::Table, ShareEvents::ShareId),
                        (Shares::Table, Shares::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_share_events_share")
                    .table(ShareEvents::Table)
                    .col(ShareEvents::ShareId)
                    .col(ShareEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShareEvents::Table.into_iden(),
            ShareFiles::Table.into_iden(),
            Shares::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
