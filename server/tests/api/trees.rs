//! The folder tree stays a tree under abuse: bounded depth and path length, moves that race each
//! other cannot make a cycle, and even a tree corrupted by hand cannot hang a request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn put_in(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.api(Method::PUT, "/files", token)
        .query(&[("name", "deep.txt"), ("path", path)])
        .body("x")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn uploads_cannot_nest_folders_deeper_or_longer_than_allowed() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let levels = |n: usize| vec!["a"; n].join("/");
    let deepest = put_in(&app, &token, &levels(domain::files::MAX_DEPTH)).await;
    assert_eq!(deepest.status(), StatusCode::CREATED, "64 levels are fine");
    let too_deep = put_in(&app, &token, &levels(domain::files::MAX_DEPTH + 1)).await;
    assert_eq!(too_deep.status(), StatusCode::BAD_REQUEST);
    let huge = put_in(&app, &token, &levels(3_000)).await;
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST, "refused before any folder is made");
    let endless = put_in(&app, &token, &levels(10_000)).await;
    assert_eq!(endless.status(), 431, "a request head past max_header_bytes is not even read");
    let long = put_in(&app, &token, &vec!["b".repeat(200); 21].join("/")).await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST, "21 levels, but over 4,096 bytes");
    let folders: i64 = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        domain::entities::folders::Entity::find().count(&app.db).await.unwrap() as i64
    };
    assert_eq!(folders, 1 + 64, "the root and the one allowed chain");

    // The top of that chain (63 levels below it) cannot move 11 levels down.
    let home = app.create_folder(&token, None, "home").await;
    let root = app.get_json("/folders/root", &token).await;
    let a = root["folders"].as_array().unwrap().iter().find(|f| f["name"] == "a").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut parent = home.clone();
    for _ in 0..10 {
        parent = app.create_folder(&token, Some(&parent), "d").await;
    }
    let moved = app.api(Method::PATCH, &format!("/folders/{a}"), &token);
    let moved = moved.json(&json!({ "parent_id": parent })).send().await.unwrap();
    assert_eq!(moved.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn moves_racing_each_other_never_make_a_cycle() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    for round in 0..10 {
        let a = app.create_folder(&token, None, &format!("a{round}")).await;
        let b = app.create_folder(&token, None, &format!("b{round}")).await;
        let into = |folder: &str, parent: &str| {
            app.api(Method::PATCH, &format!("/folders/{folder}"), &token)
                .json(&json!({ "parent_id": parent }))
                .send()
        };
        let (one, two) = tokio::join!(into(&a, &b), into(&b, &a));
        let statuses = [one.unwrap().status(), two.unwrap().status()];
        assert!(statuses.contains(&StatusCode::CONFLICT), "one move must lose: {statuses:?}");
        for folder in [&a, &b] {
            let listed = app.api(Method::GET, &format!("/folders/{folder}"), &token);
            let listed: Value = listed.send().await.unwrap().json().await.unwrap();
            assert_eq!(listed["path"][0]["name"], "", "{folder} still hangs below the root");
        }
    }
}

#[tokio::test]
async fn a_corrupt_tree_cannot_hang_a_request() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let a = app.create_folder(&token, None, "a").await;
    let b = app.create_folder(&token, Some(&a), "b").await;
    let file = app.put_file(&token, Some(&b), "f.txt", b"x".to_vec()).await;
    assert_eq!(file.status(), StatusCode::CREATED);
    let share = app.api(Method::POST, "/shares", &token).json(&json!({ "folder_id": a }));
    let slug = share.send().await.unwrap().json::<Value>().await.unwrap()["slug"].clone();
    {
        use domain::entities::folders;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let (a, b) = (uuid::Uuid::parse_str(&a).unwrap(), uuid::Uuid::parse_str(&b).unwrap());
        let looped = folders::Entity::update_many()
            .col_expr(folders::Column::ParentId, Expr::value(Some(b)))
            .filter(folders::Column::Id.eq(a))
            .exec(&app.db)
            .await
            .unwrap();
        assert_eq!(looped.rows_affected, 1, "a and b now loop");
    }
    let within = |request: reqwest::RequestBuilder| async move {
        let sent = tokio::time::timeout(std::time::Duration::from_secs(10), request.send()).await;
        sent.expect("answered in time").unwrap().status()
    };
    assert_eq!(within(app.api(Method::GET, &format!("/folders/{b}"), &token)).await, 500);
    let into_itself = app.api(Method::PATCH, &format!("/folders/{a}"), &token);
    let status = within(into_itself.json(&json!({ "name": "renamed" }))).await;
    assert!(status.is_server_error() || status.is_client_error(), "{status}");
    let deleted = within(app.api(Method::DELETE, &format!("/folders/{a}"), &token)).await;
    assert!(deleted.is_server_error() || deleted.is_success(), "{deleted}");
    let page = app.client.get(format!("{}/s/{}", app.address, slug.as_str().unwrap()));
    let _ = within(page).await;
}
