//! Hardening: folders made by a file request's visitor remember who made them (the hash of the
//! visitor's browser-session token), so a visitor's later uploads reuse only their own
//! sub-folders and never write into the owner's; the share access log gets an index on its
//! age for the janitor's pruning; a new instance (no account yet) starts invite-only — its
//! first account, the admin, signs up with the setup link `pannier serve` prints.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_len_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Folders {
    Table,
    VisitorHash,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ShareEvents {
    Table,
    CreatedAt,
}

const EVENTS_BY_AGE: &str = "idx_share_events_created_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Folders::Table)
                    .add_column(string_len_null(Folders::VisitorHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(EVENTS_BY_AGE)
                    .table(ShareEvents::Table)
                    .col(ShareEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;
        let no_accounts = Query::select().column(Users::Id).from(Users::Table).limit(1).to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(Settings::Table)
                    .value(Settings::Value, "invite_only")
                    .and_where(Expr::col(Settings::Key).eq("registration_mode"))
                    .and_where(Expr::exists(no_accounts).not())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(EVENTS_BY_AGE).table(ShareEvents::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(Folders::Table).drop_column(Folders::VisitorHash).to_owned(),
            )
            .await
    }
}
