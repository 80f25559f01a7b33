//! The job queue and what its media work finds out: `jobs` holds work that must survive a
//! crash and run once across instances (thumbnails, the hourly housekeeping), claimed under a
//! lease; `media` holds, per file, the outcome of making its previews (dimensions, duration,
//! the thumbnails' type, a tiny placeholder image) — it goes with its file.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, boolean, integer, integer_null, string_len, string_len_null, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::cascade;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    State,
    Attempts,
    MaxAttempts,
    RunAfter,
    LeaseToken,
    LeaseUntil,
    EverySecs,
    UniqueKey,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Media {
    Table,
    FileId,
    Status,
    Kind,
    Width,
    Height,
    DurationMs,
    ThumbType,
    Large,
    Placeholder,
    TakenAt,
    Camera,
    Error,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
}

const RUNNABLE: &str = "idx_jobs_state_run_after";
const UNIQUE_KEY: &str = "idx_jobs_unique_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(uuid(Jobs::Id).primary_key())
                    .col(string_len(Jobs::Kind, 64))
                    .col(text(Jobs::Payload))
                    .col(string_len(Jobs::State, 16))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(timestamp_with_time_zone(Jobs::RunAfter))
                    .col(uuid_null(Jobs::LeaseToken))
                    .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                    .col(big_integer_null(Jobs::EverySecs))
                    .col(string_len_null(Jobs::UniqueKey, 128))
                    .col(text_null(Jobs::LastError))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(RUNNABLE)
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::RunAfter)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(UNIQUE_KEY)
                    .table(Jobs::Table)
                    .col(Jobs::UniqueKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(uuid(Media::FileId).primary_key())
                    .col(string_len(Media::Status, 16))
                    .col(string_len(Media::Kind, 16))
                    .col(integer_null(Media::Width))
                    .col(integer_null(Media::Height))
                    .col(big_integer_null(Media::DurationMs))
                    .col(string_len_null(Media::ThumbType, 32))
                    .col(boolean(Media::Large))
                    .col(text_null(Media::Placeholder))
                    .col(timestamp_with_time_zone_null(Media::TakenAt))
                    .col(text_null(Media::Camera))
                    .col(text_null(Media::Error))
                    .col(timestamp_with_time_zone(Media::CreatedAt))
                    .foreign_key(&mut cascade(
                        (Media::Table, Media::FileId),
                        (Files::Table, Files::Id),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Media::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Jobs::Table).to_owned()).await
    }
}
