//! Bodies read whole are bounded on every route, including the upload routes that stream files
//! without a limit: a too-large report, form field or JSON document is refused with the JSON
//! error (413 `request_too_large`), for accounts and for anonymous visitors of a file request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// 1 MiB: far past anything these routes read whole.
fn big() -> Vec<u8> {
    vec![b' '; 1 << 20]
}

async fn assert_too_large(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{what}");
    let body: Value = response.json().await.unwrap_or_else(|_| panic!("{what}: a JSON error"));
    assert_eq!(body["error"]["code"], "request_too_large", "{what}");
}

/// A file request on a new folder of `token`'s account; its slug.
async fn request_slug(app: &TestApp, token: &str) -> String {
    let folder = app.create_folder(token, None, "Inbox").await;
    let body = json!({ "folder_id": folder, "request": {} });
    let response = app.api(Method::POST, "/shares", token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["slug"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_direct_upload_part_report_is_read_only_up_to_a_few_kib() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let slug = request_slug(&app, &token).await;
    let upload = uuid::Uuid::new_v4();
    let account = app.api(Method::POST, &format!("/uploads/{upload}/parts"), &token);
    assert_too_large(account.body(big()).send().await.unwrap(), "/api/v1 parts").await;
    let visitor = app
        .client
        .post(format!("{}/s/{slug}/uploads/{upload}/parts", app.address))
        .header("tus-resumable", "1.0.0")
        .body(big());
    assert_too_large(visitor.send().await.unwrap(), "/s/{slug} parts").await;
    // A short report still reaches the handler (which finds no such upload).
    let short = app.api(Method::POST, &format!("/uploads/{upload}/parts"), &token);
    assert_eq!(short.body("").send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_multipart_text_field_is_read_only_up_to_a_few_kib() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let slug = request_slug(&app, &token).await;
    let form = || {
        let folder = String::from_utf8(big()).unwrap();
        let file = reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt");
        reqwest::multipart::Form::new().text("folder_id", folder).part("file", file)
    };
    let account = app.api(Method::POST, "/files", &token).multipart(form());
    assert_too_large(account.send().await.unwrap(), "/api/v1/files").await;
    let visitor = app.client.post(format!("{}/s/{slug}/files", app.address)).multipart(form());
    assert_too_large(visitor.send().await.unwrap(), "/s/{slug}/files").await;
    assert_eq!(app.stored_objects().await, 0, "nothing was stored");
}

#[tokio::test]
async fn a_multipart_upload_holds_a_bounded_number_of_parts() {
    let app = spawn_app_with(|config| config.max_upload_parts = 50).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let slug = request_slug(&app, &token).await;
    let form = || {
        (0..200).fold(reqwest::multipart::Form::new(), |form, i| form.text(format!("f{i}"), "x"))
    };
    let account = app.api(Method::POST, "/files", &token).multipart(form());
    assert_too_large(account.send().await.unwrap(), "200 parts on /api/v1/files").await;
    let visitor = app.client.post(format!("{}/s/{slug}/files", app.address)).multipart(form());
    assert_too_large(visitor.send().await.unwrap(), "200 parts on /s/{slug}/files").await;
    let avatar = app.api(Method::POST, "/me/avatar", &token).multipart(form());
    assert_too_large(avatar.send().await.unwrap(), "200 parts on the avatar form").await;
    let files = (0..50).fold(reqwest::multipart::Form::new(), |form, i| {
        let part = reqwest::multipart::Part::bytes(b"hi".to_vec()).file_name(format!("{i}.txt"));
        form.part("file", part)
    });
    let allowed = app.api(Method::POST, "/files", &token).multipart(files).send().await.unwrap();
    assert_eq!(allowed.status(), StatusCode::CREATED, "50 parts are allowed");
}

#[tokio::test]
async fn json_documents_and_forms_are_bounded_everywhere() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let ids: Vec<String> = (0..20_000).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let share = app.api(Method::POST, "/shares", &token).json(&json!({ "file_ids": ids }));
    assert_too_large(share.send().await.unwrap(), "a share of 20,000 ids").await;
    let unlock = app
        .client
        .post(format!("{}/s/{}/unlock", app.address, "a".repeat(24)))
        .header("origin", &app.address)
        .header("content-type", "application/x-www-form-urlencoded")
        .body([b"password=".as_slice(), &vec![b'x'; 1 << 20]].concat());
    assert_too_large(unlock.send().await.unwrap(), "the unlock form").await;
}

#[tokio::test]
async fn the_document_limit_is_the_configured_one() {
    let app = spawn_app_with(|config| {
        config.max_document_size = domain::config::ByteSize(1024);
    })
    .await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let name = "n".repeat(2000);
    let folder = app.api(Method::POST, "/folders", &token).json(&json!({ "name": name }));
    assert_too_large(folder.send().await.unwrap(), "a 2 KB document past a 1 KiB limit").await;
    let small = app.api(Method::POST, "/folders", &token).json(&json!({ "name": "ok" }));
    assert_eq!(small.send().await.unwrap().status(), StatusCode::CREATED);
}
