//! Folders over HTTP: nesting, breadcrumbs, moves without cycles, recursive delete, paging.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn listing(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.api(Method::GET, path, token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn folders_nest_move_without_cycles_and_delete_everything_below() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let a = app.create_folder(&token, None, "A").await;
    let b = app.create_folder(&token, Some(&a), "B").await;
    let c = app.create_folder(&token, Some(&b), "C").await;
    assert_eq!(app.put_file(&token, Some(&b), "one.bin", vec![1; 100]).await.status(), 201);
    assert_eq!(app.put_file(&token, Some(&c), "two.bin", vec![2; 50]).await.status(), 201);
    assert_eq!(app.put_file(&token, None, "keep.bin", vec![3; 7]).await.status(), 201);

    let same = app
        .api(Method::POST, "/folders", &token)
        .json(&json!({ "parent_id": a, "name": "B" }))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 409);

    let in_c = listing(&app, &token, &format!("/folders/{c}")).await;
    let crumbs: Vec<&str> =
        in_c["path"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(crumbs, ["", "A", "B"], "root, then A, then B");

    for target in [&a, &c] {
        let cycle = app
            .api(Method::PATCH, &format!("/folders/{a}"), &token)
            .json(&json!({ "parent_id": target }))
            .send()
            .await
            .unwrap();
        assert_eq!(cycle.status(), 409, "moving A into {target}");
    }
    let root_id =
        listing(&app, &token, "/folders/root").await["folder"]["id"].as_str().unwrap().to_owned();
    let root_rename = app
        .api(Method::PATCH, &format!("/folders/{root_id}"), &token)
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(root_rename.status(), 400);

    let moved = app
        .api(Method::PATCH, &format!("/folders/{c}"), &token)
        .json(&json!({ "parent_id": "root", "name": "C moved" }))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let root = listing(&app, &token, "/folders/root").await;
    let names: Vec<&str> =
        root["folders"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["A", "C moved"]);

    let deleted = app.api(Method::DELETE, &format!("/folders/{a}"), &token).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(deleted.json::<Value>().await.unwrap(), json!({ "files": 1, "bytes": 100 }));
    assert_eq!(
        app.api(Method::GET, &format!("/folders/{b}"), &token).send().await.unwrap().status(),
        404
    );
    let root = listing(&app, &token, "/folders/root").await;
    assert_eq!(root["usage"]["used"], 57, "only C's file and keep.bin are left");
    assert_eq!(app.stored_objects().await, 2);
}

#[tokio::test]
async fn pages_cover_every_entry_once_folders_first() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    for i in 0..7 {
        app.create_folder(&token, None, &format!("folder {i}")).await;
    }
    for i in 0..13 {
        assert_eq!(
            app.put_file(&token, None, &format!("file {i:02}.txt"), vec![b'x'; i + 1])
                .await
                .status(),
            201
        );
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = listing(
            &app,
            &token,
            &format!("/folders/root?limit=5&sort=size&order=desc&cursor={cursor}"),
        )
        .await;
        assert_eq!(page["total"], 20);
        for entry in
            page["folders"].as_array().unwrap().iter().chain(page["files"].as_array().unwrap())
        {
            seen.push((entry["name"].as_str().unwrap().to_owned(), entry["size"].as_u64()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 20);
    assert_eq!(seen.iter().map(|(name, _)| name).collect::<HashSet<_>>().len(), 20);
    assert!(seen[..7].iter().all(|(_, size)| size.is_none()), "folders come first");
    let sizes: Vec<u64> = seen[7..].iter().map(|(_, size)| size.unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first: {sizes:?}");
    for cursor in ["abc", "18446744073709551615", "9223372036854775807", "21", "-1"] {
        let path = format!("/folders/root?cursor={cursor}");
        let bad = app.api(Method::GET, &path, &token).send().await.unwrap();
        assert_eq!(bad.status(), 400, "cursor {cursor}");
        let body: serde_json::Value = bad.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "cursor {cursor}");
    }
    for query in [
        "limit=18446744073709551616",
        "limit=-1",
        "limit=lots",
        "limit=0",
        "limit=501",
        "sort=owner",
        "order=up",
    ] {
        let bad = app.api(Method::GET, &format!("/folders/root?{query}"), &token);
        let bad = bad.send().await.unwrap();
        assert_eq!(bad.status(), 400, "{query}");
        let body: serde_json::Value = bad.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{query}: a JSON error");
    }
    let end = app.api(Method::GET, "/folders/root?cursor=20", &token).send().await.unwrap();
    assert_eq!(end.status(), 200, "the end itself is a valid (empty) page");
}
