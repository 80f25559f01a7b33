//! Ids are parsed where a request enters: a malformed id in a path, query, form or JSON body is
//! a 400 that says which kind of id was expected, before any service runs; a well-formed id
//! that names nothing of the caller's is a 404.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_ids_are_400s_that_name_the_id_and_unknown_ones_404s() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let routes = [
        (Method::GET, "/files/{}", "file"),
        (Method::PATCH, "/files/{}", "file"),
        (Method::DELETE, "/files/{}", "file"),
        (Method::GET, "/files/{}/content", "file"),
        (Method::GET, "/folders/{}", "folder"),
        (Method::PATCH, "/folders/{}", "folder"),
        (Method::DELETE, "/folders/{}", "folder"),
        (Method::PATCH, "/shares/{}", "link"),
        (Method::DELETE, "/shares/{}", "link"),
        (Method::GET, "/shares/{}/events", "link"),
        (Method::DELETE, "/uploads/{}", "upload"),
        (Method::POST, "/uploads/{}/parts", "upload"),
    ];
    let unknown = uuid::Uuid::new_v4().to_string();
    for (method, route, what) in routes {
        for (id, status) in [("1%20OR%201=1", 400), ("18446744073709551615", 400), (&*unknown, 404)]
        {
            let path = route.replace("{}", id);
            let body = match (&method, what) {
                (&Method::PATCH, "link") => json!({ "label": "x" }).to_string(),
                (&Method::PATCH, _) => json!({ "name": "x" }).to_string(),
                _ => String::new(),
            };
            let request = if what == "upload" {
                app.tus(method.clone(), &path, &token) // with the tus version header
            } else {
                app.api(method.clone(), &path, &token)
            };
            let request = request.header("content-type", "application/json");
            let answer = request.body(body).send().await.unwrap();
            assert_eq!(answer.status(), status, "{method} {path}");
            let error: Value = answer.json().await.unwrap();
            if status == 400 {
                assert_eq!(error["error"]["code"], "bad_request", "{method} {path}");
                let message = error["error"]["message"].as_str().unwrap();
                assert!(message.contains(&format!("{what} id")), "{method} {path}: {message}");
            }
        }
    }
}

#[tokio::test]
async fn unknown_api_versions_are_a_json_404_naming_the_one_spoken() {
    let app = spawn_app().await;
    for path in ["/api/v2/files", "/api/v0/folders/root", "/api/latest/me/avatar"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status(), 404, "{path}");
        let error: Value = answer.json().await.unwrap();
        assert!(error["error"]["message"].as_str().unwrap().contains("/api/v1"), "{path}");
    }
    let unknown_endpoint = app.get("/api/v1/nothing-here").await;
    assert_eq!(unknown_endpoint.status(), 404);
    let signed_out = app.get("/api/v1/me").await;
    assert_eq!(signed_out.status(), 401, "v1 itself is untouched");
}

#[tokio::test]
async fn ids_inside_bodies_and_queries_are_checked_the_same_way() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.put_file(&token, None, "a.txt", b"a".to_vec()).await;
    let file: Value = file.json().await.unwrap();
    let file = file["id"].as_str().unwrap().to_owned();
    let moved = app.api(Method::PATCH, &format!("/files/{file}"), &token);
    let moved = moved.json(&json!({ "folder_id": "../../etc" })).send().await.unwrap();
    assert_eq!(moved.status(), 400);
    let shared = app.api(Method::POST, "/shares", &token);
    let shared = shared.json(&json!({ "file_ids": [file, "nope"] })).send().await.unwrap();
    assert_eq!(shared.status(), 400);
    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"].as_array().unwrap().len(), 0, "nothing made");
    let put = app.api(Method::PUT, "/files?name=b.txt&folder_id=nope", &token);
    assert_eq!(put.body("b").send().await.unwrap().status(), 400);
    let root = app.get_json("/folders/root", &token).await;
    assert_eq!(root["total"], 1, "nothing stored");
    // The root can be named, by the word or by its id.
    let root_id = root["folder"]["id"].as_str().unwrap().to_owned();
    for name in ["root", &*root_id] {
        let listing = app.get_json(&format!("/folders/{name}"), &token).await;
        assert_eq!(listing["folder"]["id"], root_id.as_str());
    }
}
