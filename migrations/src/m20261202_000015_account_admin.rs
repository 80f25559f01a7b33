//! Account administration: `users.disabled_at` (an admin turned the account off: no sign-in, no
//! session, no token, no link works until it is turned on again) and `password_resets`, the
//! one-time links an admin hands to someone who lost their password (there is no mail to send
//! them by). Only a reset's hash is stored; it goes with its account. And an index for the
//! audit log's newest-first pages (`idx_audit_action_time` serves only a chosen action).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    string_len, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

use crate::cascade;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    DisabledAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    CreatedAt,
}

const AUDIT_BY_TIME: &str = "idx_audit_time";

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::DisabledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(string_len(PasswordResets::TokenHash, 64).primary_key())
                    .col(uuid(PasswordResets::UserId))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .foreign_key(&mut cascade(
                        (PasswordResets::Table, PasswordResets::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(AUDIT_BY_TIME)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(AUDIT_BY_TIME).table(AuditEvents::Table).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(PasswordResets::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter().table(Users::Table).drop_column(Users::DisabledAt).to_owned(),
            )
            .await
    }
}
