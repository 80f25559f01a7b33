//! API tokens end with the sessions when their owner says so: a password change and "sign out
//! everywhere" revoke the write tokens by default (or all, or none, as chosen), a reset from the
//! command line revokes them all, and a token cannot make more tokens.

use domain::account::TokenScope;
use reqwest::StatusCode;

use crate::helpers::{TestApp, browser, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// A signed-in browser of a new account, with a read and a write token: (browser, read, write).
async fn account_with_tokens(app: &TestApp, email: &str) -> (reqwest::Client, String, String) {
    let client = browser();
    app.sign_up(&client, email, PASSWORD).await;
    let email = domain::account::EmailAddress::parse(email).unwrap();
    let user = domain::users::find_by_email(&app.db, &email).await.unwrap().unwrap();
    let info = domain::auth::ClientInfo::default();
    let make = |scope| domain::tokens::create(&app.db, &user, "script", scope, None, &info);
    let read = make(TokenScope::Read).await.unwrap().secret;
    let write = make(TokenScope::Write).await.unwrap().secret;
    (client, read, write)
}

async fn works(app: &TestApp, token: &str) -> bool {
    let me = app.client.get(format!("{}/api/v1/me", app.address)).bearer_auth(token);
    me.send().await.unwrap().status() == StatusCode::OK
}

#[tokio::test]
async fn a_password_change_revokes_write_tokens_unless_told_otherwise() {
    let app = spawn_app().await;
    let (ada, read, write) = account_with_tokens(&app, "ada@example.com").await;
    let form = [("current_password", PASSWORD), ("new_password", "a new long passphrase")];
    let changed = app.call(&ada, "change_password", &form).await;
    assert!(changed.status().is_success() || changed.status().is_redirection());
    assert!(!works(&app, &write).await, "the write token ends with the old password");
    assert!(works(&app, &read).await, "a read-only token keeps working by default");

    let (bob, read, write) = account_with_tokens(&app, "bob@example.com").await;
    let form = [
        ("current_password", PASSWORD),
        ("new_password", "a new long passphrase"),
        ("tokens", "keep"),
    ];
    app.call(&bob, "change_password", &form).await;
    assert!(works(&app, &read).await && works(&app, &write).await, "kept when asked");
    let bad = app
        .call(
            &bob,
            "change_password",
            &[
                ("current_password", "a new long passphrase"),
                ("new_password", "another long passphrase"),
                ("tokens", "some"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422, "an unknown choice changes nothing");
    assert!(works(&app, &write).await);
}

#[tokio::test]
async fn signing_out_everywhere_and_a_reset_from_the_command_line_revoke_tokens() {
    let app = spawn_app().await;
    let (ada, read, write) = account_with_tokens(&app, "ada@example.com").await;
    let out = app.call(&ada, "sign_out_everywhere", &[("tokens", "all")]).await;
    assert!(out.status().is_success() || out.status().is_redirection());
    assert!(!works(&app, &read).await && !works(&app, &write).await, "every token ended");

    let (_, read, write) = account_with_tokens(&app, "bob@example.com").await;
    let email = domain::account::EmailAddress::parse("bob@example.com").unwrap();
    domain::users::reset_password(&app.db, &email, "a brand new passphrase".into()).await.unwrap();
    assert!(!works(&app, &read).await && !works(&app, &write).await, "a reset ends them all");
}

#[tokio::test]
async fn a_token_cannot_make_more_tokens() {
    let app = spawn_app().await;
    let (_, _, write) = account_with_tokens(&app, "ada@example.com").await;
    let minted = app
        .client
        .post(format!("{}/api/create_token", app.address))
        .bearer_auth(&write)
        .header("accept", "application/json")
        .form(&[("name", "forever"), ("scope", "write")])
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = minted.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
}

/// Every server fn's error comes with its own status (one boundary sets it), not a bare 500.
#[tokio::test]
async fn server_fn_errors_carry_their_status() {
    let app = spawn_app().await;
    account_with_tokens(&app, "ada@example.com").await; // the first account: the admin
    let (bob, _, _) = account_with_tokens(&app, "bob@example.com").await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let unknown = app.call(&bob, "revoke_token", &[("id", &unknown)]).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let malformed = app.call(&bob, "revoke_token", &[("id", "no-such-token")]).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let not_admin = app.call(&bob, "create_invite", &[("days", "7")]).await;
    assert_eq!(not_admin.status(), StatusCode::FORBIDDEN);
    let signed_out = app.call(&browser(), "account_overview", &[]).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
}
