//! First run: a new instance has no admin until someone signs up with the one-time setup token
//! (or `pannier user create --admin` makes one), and it starts invite-only.

use migration::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{browser, fresh_database, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

fn form<'a>(email: &'a str, setup: &'a str) -> [(&'a str, &'a str); 4] {
    [("email", email), ("display_name", "Ada"), ("password", PASSWORD), ("setup", setup)]
}

#[tokio::test]
async fn only_the_setup_token_makes_the_first_account_and_it_is_the_admin() {
    let app = spawn_app().await;
    let stranger = app.call(&browser(), "sign_up", &form("eve@example.com", "")).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN, "whoever comes first is not the admin");
    let token = domain::setup::issue(&app.db).await.unwrap().unwrap();
    let guessed = app.call(&browser(), "sign_up", &form("eve@example.com", "guess")).await;
    assert_eq!(guessed.status(), StatusCode::FORBIDDEN);

    let ada = browser();
    let admin = app.call(&ada, "sign_up", &form("ada@example.com", &token)).await;
    assert!(admin.status().is_success() || admin.status().is_redirection(), "{}", admin.status());
    let me: Value =
        ada.get(format!("{}/api/v1/me", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "admin");
    assert!(domain::setup::issue(&app.db).await.unwrap().is_none(), "no more tokens");
    let bob = browser();
    let again = app.call(&bob, "sign_up", &form("bob@example.com", &token)).await;
    assert!(again.status().is_success() || again.status().is_redirection());
    let me: Value =
        bob.get(format!("{}/api/v1/me", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "user", "the used-up token makes nobody admin");
}

#[tokio::test]
async fn a_new_instance_is_invite_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = domain::config::Config {
        database_url: Some(fresh_database(dir.path()).await),
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let db = domain::db::connect(&config).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let mode = domain::settings::registration_mode(&db).await.unwrap();
    assert_eq!(mode, domain::account::RegistrationMode::InviteOnly);
}
