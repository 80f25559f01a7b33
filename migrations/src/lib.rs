//! Pannier's database migrations, portable across SQLite and PostgreSQL.
//!
//! Each migration is a file `mYYYYMMDD_NNNNNN_what.rs`, listed in order below. Migrations are
//! never edited once released; a change is a new migration. This crate never imports `domain`.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_settings;
mod m20261121_000002_accounts;
mod m20261121_000003_files;
mod m20261121_000004_uploads;
mod m20261121_000005_shares;
mod m20261121_000006_file_requests;
mod m20261129_000007_hardening;
mod m20261129_000008_jobs_and_media;
mod m20261130_000009_search;
mod m20261130_000010_file_texts;
mod m20261130_000011_folder_search;
mod m20261130_000012_folded_names;
mod m20261130_000013_search_texts;
mod m20261201_000014_upload_keys;
mod m20261202_000015_account_admin;
mod m20261202_000016_packed_keys;

/// Runs the statements written for the engine at hand, in order.
async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        sea_orm_migration::sea_orm::DatabaseBackend::Postgres => postgres,
        _ => sqlite,
    };
    for statement in statements {
        manager.get_connection().execute_unprepared(statement).await?;
    }
    Ok(())
}

/// A foreign key from `from` (table, column) to `to` whose rows go with the row they point at.
fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Applies Pannier's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_settings::Migration),
            Box::new(m20261121_000002_accounts::Migration),
            Box::new(m20261121_000003_files::Migration),
            Box::new(m20261121_000004_uploads::Migration),
            Box::new(m20261121_000005_shares::Migration),
            Box::new(m20261121_000006_file_requests::Migration),
            Box::new(m20261129_000007_hardening::Migration),
            Box::new(m20261129_000008_jobs_and_media::Migration),
            Box::new(m20261130_000009_search::Migration),
            Box::new(m20261130_000010_file_texts::Migration),
            Box::new(m20261130_000011_folder_search::Migration),
            Box::new(m20261130_000012_folded_names::Migration),
            Box::new(m20261130_000013_search_texts::Migration),
            Box::new(m20261201_000014_upload_keys::Migration),
            Box::new(m20261202_000015_account_admin::Migration),
            Box::new(m20261202_000016_packed_keys::Migration),
        ]
    }
}
