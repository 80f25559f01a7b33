//! Files: folders, files, the blob-deletion queue, per-account quota and avatar.

use sea_orm_migration::prelude::*;

use crate::cascade;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, string_len, string_len_null, text_null,
    timestamp_with_time_zone, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    QuotaBytes,
    AvatarKey,
}

#[derive(DeriveIden)]
enum Folders {
    Table,
    Id,
    OwnerId,
    ParentId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    OwnerId,
    FolderId,
    Name,
    Size,
    ContentType,
    Sha256,
    BlobKey,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BlobDeletions {
    Table,
    BlobKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [big_integer_null(Users::QuotaBytes), string_len_null(Users::AvatarKey, 64)] {
            let mut column = column;
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(&mut column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Folders::Table)
                    .col(uuid(Folders::Id).primary_key())
                    .col(uuid(Folders::OwnerId))
                    .col(uuid_null(Folders::ParentId))
                    .col(string_len(Folders::Name, 255))
                    .col(timestamp_with_time_zone(Folders::CreatedAt))
                    .col(timestamp_with_time_zone(Folders::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Folders::Table, Folders::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (Folders::Table, Folders::ParentId),
                        (Folders::Table, Folders::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_folders_parent_name")
                    .table(Folders::Table)
                    .col(Folders::ParentId)
                    .col(Folders::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One root per owner (NULLs are distinct in the index above). Same SQL on both engines.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_folders_root ON folders (owner_id) WHERE parent_id IS NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(uuid(Files::Id).primary_key())
                    .col(uuid(Files::OwnerId))
                    .col(uuid(Files::FolderId))
                    .col(string_len(Files::Name, 255))
                    .col(big_integer(Files::Size))
                    .col(string_len(Files::ContentType, 127))
                    .col(string_len(Files::Sha256, 64))
                    .col(string_len(Files::BlobKey, 64).unique_key())
                    .col(text_null(Files::Description))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .col(timestamp_with_time_zone(Files::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (Files::Table, Files::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (Files::Table, Files::FolderId),
                        (Folders::Table, Folders::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_folder_name")
                    .table(Files::Table)
                    .col(Files::FolderId)
                    .col(Files::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_owner")
                    .table(Files::Table)
                    .col(Files::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BlobDeletions::Table)
                    .col(string_len(BlobDeletions::BlobKey, 64).primary_key())
                    .col(timestamp_with_time_zone(BlobDeletions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [BlobDeletions::Table.into_iden(), Files::Table.into_iden(), Folders::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [Users::AvatarKey.into_iden(), Users::QuotaBytes.into_iden()] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
