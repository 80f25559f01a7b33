//! Migrations on an empty database: apply, re-apply (no-op), roll back, apply again.

use domain::config::Config;
use migration::{Migrator, MigratorTrait};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::fresh_database;

/// Site name, tagline, registration mode.
const SEEDED: u64 = 3;

#[tokio::test]
async fn migrations_apply_cleanly_and_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(fresh_database(dir.path()).await),
        ..Config::default()
    };
    let db = domain::db::connect(&config).await.unwrap();
    let settings = || domain::entities::settings::Entity::find().count(&db);

    Migrator::up(&db, None).await.unwrap();
    let statuses = Migrator::get_migration_with_status(&db).await.unwrap();
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|m| m.status().to_string() == "Applied"));
    assert_eq!(settings().await.unwrap(), SEEDED, "the seed rows");

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(settings().await.unwrap(), SEEDED, "re-running must not seed twice");

    Migrator::down(&db, None).await.unwrap();
    assert!(
        Migrator::get_migration_with_status(&db)
            .await
            .unwrap()
            .iter()
            .all(|m| m.status().to_string() == "Pending")
    );
    assert!(settings().await.is_err(), "the table is gone after rolling back");

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(settings().await.unwrap(), SEEDED);
}
