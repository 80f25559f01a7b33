//! A selection moved or deleted from the file browser is one use case: every item or none.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{browser, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_selection_moves_or_goes_whole_or_not_at_all() {
    let app = spawn_app().await;
    let ada = browser();
    app.sign_up(&ada, "ada@example.com", PASSWORD).await;
    let token = {
        let email = domain::account::EmailAddress::parse("ada@example.com").unwrap();
        let user = domain::users::find_by_email(&app.db, &email).await.unwrap().unwrap();
        let info = domain::auth::ClientInfo::default();
        let scope = domain::account::TokenScope::Write;
        domain::tokens::create(&app.db, &user, "t", scope, None, &info).await.unwrap().secret
    };
    let id = |response: reqwest::Response| async move {
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    };
    let target = app.create_folder(&token, None, "Target").await;
    let first = id(app.put_file(&token, None, "first.txt", b"1".to_vec()).await).await;
    let clash = id(app.put_file(&token, None, "same.txt", b"2".to_vec()).await).await;
    app.put_file(&token, Some(&target), "same.txt", b"3".to_vec()).await;
    let files = format!("{first},{clash}");

    let moved = app
        .call(&ada, "move_items", &[("files", &files), ("folders", ""), ("target", &target)])
        .await;
    assert_eq!(moved.status(), StatusCode::CONFLICT, "the second name is taken there");
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["files"].as_array().unwrap().len(), 2, "the first file did not move either");

    let gone = format!("{first},{}", uuid::Uuid::new_v4());
    let deleted = app.call(&ada, "delete_items", &[("files", &gone), ("folders", &target)]).await;
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["files"].as_array().unwrap().len(), 2, "nothing was deleted");
    assert_eq!(root["folders"].as_array().unwrap().len(), 1);

    // The delete dialog's figures: the folder's file and both of the root's, bytes summed;
    // measuring deletes nothing, and another account's ids are not found.
    let measured =
        app.call(&ada, "measure_items", &[("files", &files), ("folders", &target)]).await;
    assert_eq!(measured.status(), StatusCode::OK);
    let measured: Value = measured.json().await.unwrap();
    assert_eq!((measured["files"].as_u64(), measured["bytes"].as_u64()), (Some(3), Some(3)));
    let bob = browser();
    app.sign_up(&bob, "bob@example.com", PASSWORD).await;
    let theirs = app.call(&bob, "measure_items", &[("files", &files), ("folders", "")]).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let visitor =
        app.call(&browser(), "measure_items", &[("files", &files), ("folders", "")]).await;
    assert_eq!(visitor.status(), StatusCode::UNAUTHORIZED);
    let many = vec![uuid::Uuid::new_v4().to_string(); 1001].join(",");
    let too_many = app.call(&ada, "measure_items", &[("files", &many), ("folders", "")]).await;
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["files"].as_array().unwrap().len(), 2, "measuring deleted nothing");

    let all = app.call(&ada, "delete_items", &[("files", &files), ("folders", &target)]).await;
    assert!(all.status().is_success(), "{}", all.status());
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["total"], 0);
    assert_eq!(app.stored_objects().await, 0, "every object went");
}
