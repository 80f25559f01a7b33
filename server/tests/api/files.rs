//! Files over HTTP: upload, download, ranges, validators, limits, quota, names, isolation.
//! On SQLite + local disk, and on PostgreSQL + S3 when `make test` provides them.

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The smallest valid PNG: detected as image/png from its bytes.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0A, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4, 0, 0, 0, 0, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn upload_json(
    app: &TestApp,
    token: &str,
    folder: Option<&str>,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let response = app.put_file(token, folder, name, bytes).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    response.json().await.unwrap()
}

async fn content(app: &TestApp, token: &str, id: &str) -> reqwest::RequestBuilder {
    app.api(Method::GET, &format!("/files/{id}/content"), token)
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn uploads_round_trip_with_hash_type_and_safe_headers() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = upload_json(&app, &token, None, "Ferien 🏖.png", PNG.to_vec()).await;
    assert_eq!(file["name"], "Ferien 🏖.png");
    assert_eq!(file["size"], PNG.len());
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["sha256"], domain::auth::hex(&Sha256::digest(PNG)));
    let id = file["id"].as_str().unwrap();

    let response = content(&app, &token, id).await.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let policy = format!("sandbox; frame-ancestors {}", app.address);
    assert_eq!(header(&response, "content-security-policy"), policy);
    assert_eq!(header(&response, "accept-ranges"), "bytes");
    assert_eq!(header(&response, "etag"), format!("\"{}\"", file["sha256"].as_str().unwrap()));
    let disposition = header(&response, "content-disposition").to_owned();
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''Ferien%20%F0%9F%8F%96.png"), "{disposition}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);

    let attachment =
        content(&app, &token, id).await.query(&[("download", "1")]).send().await.unwrap();
    assert!(header(&attachment, "content-disposition").starts_with("attachment;"));

    let head = app.api(Method::HEAD, &format!("/files/{id}/content"), &token).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-length"), PNG.len().to_string());

    let mut meta: Value = app.get_json(&format!("/files/{id}"), &token).await;
    // Its previews may have been made meanwhile (the app runs a worker).
    meta.as_object_mut().unwrap().remove("media");
    assert_eq!(meta, file);
}

#[tokio::test]
async fn active_content_always_downloads_as_an_attachment() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    for (name, body) in [
        ("page.html", "<!doctype html><html><script>alert(1)</script></html>"),
        (
            "drawing.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        ),
        ("app.js", "alert(1)"),
    ] {
        let file = upload_json(&app, &token, None, name, body.into()).await;
        let response =
            content(&app, &token, file["id"].as_str().unwrap()).await.send().await.unwrap();
        assert!(header(&response, "content-disposition").starts_with("attachment;"), "{name}");
        let policy = header(&response, "content-security-policy");
        assert!(policy.starts_with("sandbox;"), "{name}: {policy}");
    }
}

#[tokio::test]
async fn single_ranges_get_206_and_unsatisfiable_ones_416() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let file = upload_json(&app, &token, None, "data.bin", bytes.clone()).await;
    let id = file["id"].as_str().unwrap();
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=-10", 990, 999),
        ("bytes=990-", 990, 999),
        ("bytes=500-5000", 500, 999),
    ] {
        let response = content(&app, &token, id).await.header("range", range).send().await.unwrap();
        assert_eq!(response.status(), 206, "{range}");
        assert_eq!(header(&response, "content-range"), format!("bytes {start}-{end}/1000"));
        assert_eq!(response.bytes().await.unwrap().as_ref(), &bytes[start..=end], "{range}");
    }
    let response =
        content(&app, &token, id).await.header("range", "bytes=1000-").send().await.unwrap();
    assert_eq!(response.status(), 416);
    assert_eq!(header(&response, "content-range"), "bytes */1000");
    let response =
        content(&app, &token, id).await.header("range", "bytes=0-1,5-6").send().await.unwrap();
    assert_eq!(response.status(), 200, "several ranges get the whole file");
    let response = content(&app, &token, id)
        .await
        .header("range", "bytes=0-9")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a stale If-Range gets the whole file");
}

#[tokio::test]
async fn validators_answer_304() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = upload_json(&app, &token, None, "notes.txt", b"hello".to_vec()).await;
    let id = file["id"].as_str().unwrap();
    let first = content(&app, &token, id).await.send().await.unwrap();
    let etag = header(&first, "etag").to_owned();
    let modified = header(&first, "last-modified").to_owned();
    assert_eq!(header(&first, "content-type"), "text/plain; charset=utf-8");
    let by_tag =
        content(&app, &token, id).await.header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(by_tag.status(), 304);
    assert_eq!(header(&by_tag, "etag"), etag);
    let by_date = content(&app, &token, id)
        .await
        .header("if-modified-since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), 304);
    let other =
        content(&app, &token, id).await.header("if-none-match", "\"other\"").send().await.unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn files_over_the_size_limit_are_refused_while_streaming_and_leave_nothing() {
    let app = spawn_app_with(|config| config.max_file_size = domain::config::ByteSize(4096)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let response = app.put_file(&token, None, "big.bin", vec![7; 4097]).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "file_too_large");
    assert!(body["error"]["message"].as_str().unwrap().contains("4.0 KB"));
    assert_eq!(app.stored_objects().await, 0);
    let listing: Value = app.get_json("/folders/root", &token).await;
    assert_eq!(listing["total"], 0);
    assert_eq!(app.put_file(&token, None, "fits.bin", vec![7; 4096]).await.status(), 201);
}

#[tokio::test]
async fn the_quota_is_exact_and_released_on_delete() {
    let app =
        spawn_app_with(|config| config.default_quota = domain::config::ByteSize(10_000)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let first = upload_json(&app, &token, None, "a.bin", vec![1; 6000]).await;
    let response = app.put_file(&token, None, "b.bin", vec![2; 6000]).await;
    assert_eq!(response.status(), 413);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "quota_exceeded");
    let listing: Value = app.get_json("/folders/root", &token).await;
    assert_eq!(listing["usage"]["used"], 6000);
    assert_eq!(listing["usage"]["quota"], 10_000);
    assert_eq!(app.stored_objects().await, 1);

    let id = first["id"].as_str().unwrap();
    assert_eq!(
        app.api(Method::DELETE, &format!("/files/{id}"), &token).send().await.unwrap().status(),
        204
    );
    assert_eq!(app.stored_objects().await, 0, "the bytes go with the row");
    assert_eq!(app.put_file(&token, None, "b.bin", vec![2; 6000]).await.status(), 201);
}

/// Uploads finishing together are committed in one transaction (a savepoint each): the quota
/// still holds exactly — each sees the ones before it in the batch.
#[tokio::test]
async fn the_quota_is_exact_when_many_uploads_commit_together() {
    let app = spawn_app_with(|config| {
        config.default_quota = domain::config::ByteSize(10_000);
        // All thirty at once from one client: past the per-client budgets.
        (config.rate_uploads, config.max_uploads_at_once) = (0, 64);
    })
    .await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let names: Vec<String> = (0..30).map(|n| format!("{n}.bin")).collect();
    let uploads = names.iter().map(|name| app.put_file(&token, None, name, vec![1; 1000]));
    let statuses: Vec<u16> =
        futures_util::future::join_all(uploads).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 413).count(), 20, "{statuses:?}");
    let listing: Value = app.get_json("/folders/root", &token).await;
    assert_eq!(listing["usage"]["used"], 10_000);
    assert_eq!(listing["total"], 10);
    assert_eq!(app.stored_objects().await, 10, "refused uploads leave no bytes");
}

/// A `PUT` retried with its `Idempotency-Key` (its first answer lost) gets the file the first
/// attempt made — also when the retries race each other — and leaves no second copy of the
/// bytes; the key with other bytes is 409; another account's same key is its own.
#[tokio::test]
async fn a_put_sent_again_with_its_idempotency_key_stores_one_file() {
    let app =
        spawn_app_with(|config| (config.rate_uploads, config.max_uploads_at_once) = (0, 64)).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let (_, other) = app.user_with_token("bob@example.com").await;
    let put = |token: &str, key: &str, bytes: &[u8]| {
        app.api(Method::PUT, "/files?name=report.txt", token)
            .header("idempotency-key", key)
            .body(bytes.to_vec())
            .send()
    };
    let first = put(&token, "k-1", b"first").await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = put(&token, "k-1", b"first").await.unwrap();
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"], "the same file");
    assert_eq!(again["name"], "report.txt", "not report (1).txt");

    let racing = (0..20).map(|_| put(&token, "k-2", b"second"));
    let answers = futures_util::future::join_all(racing).await;
    let mut ids = std::collections::BTreeSet::new();
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 201);
        ids.insert(answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "twenty racing retries made one file");

    let clash = put(&token, "k-1", b"other bytes").await.unwrap();
    assert_eq!(clash.status(), 409);
    let listing: Value = app.get_json("/folders/root", &token).await;
    assert_eq!(listing["total"], 2, "{listing}");
    assert_eq!(listing["usage"]["used"], 5 + 6);
    assert_eq!(app.stored_objects().await, 2, "retries leave no bytes behind");

    let theirs = put(&other, "k-1", b"first").await.unwrap();
    assert_eq!(theirs.status(), 201);
    assert_ne!(theirs.json::<Value>().await.unwrap()["id"], first["id"]);
    for bad in ["", &"k".repeat(256), "caf\u{e9}"] {
        let refused = put(&token, bad, b"x").await.unwrap();
        assert_eq!(refused.status(), 400, "{bad:?}");
    }
}

#[tokio::test]
async fn names_are_sanitized_numbered_and_renames_clash_with_409() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let odd = upload_json(&app, &token, None, "../etc/passwd\u{7}", b"x".to_vec()).await;
    assert_eq!(odd["name"], ".._etc_passwd_");
    let mut names = Vec::new();
    for _ in 0..3 {
        names.push(
            upload_json(&app, &token, None, "report.pdf", b"%PDF-1.4".to_vec()).await["name"]
                .clone(),
        );
    }
    assert_eq!(names, ["report.pdf", "report (1).pdf", "report (2).pdf"]);

    let id = odd["id"].as_str().unwrap();
    let rename = |name: &'static str| {
        app.api(Method::PATCH, &format!("/files/{id}"), &token)
            .json(&serde_json::json!({ "name": name }))
            .send()
    };
    let clash = rename("report.pdf").await.unwrap();
    assert_eq!(clash.status(), 409);
    assert!(
        clash.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already")
    );
    assert_eq!(rename("a/b").await.unwrap().status(), 422);
    let renamed: Value = rename("passwd.txt").await.unwrap().json().await.unwrap();
    assert_eq!(renamed["name"], "passwd.txt");
    let described: Value = app
        .api(Method::PATCH, &format!("/files/{id}"), &token)
        .json(&serde_json::json!({ "description": "  from the server  " }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(described["description"], "from the server");
    let bad = app
        .api(Method::PATCH, &format!("/files/{id}"), &token)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
}

#[tokio::test]
async fn other_accounts_get_404_for_every_file_and_folder_route() {
    let app = spawn_app().await;
    let (_, alice) = app.user_with_token("alice@example.com").await;
    let (_, bob) = app.user_with_token("bob@example.com").await;
    let folder = app.create_folder(&alice, None, "Private").await;
    let folder = folder.as_str();
    let file = upload_json(&app, &alice, Some(folder), "secret.txt", b"mine".to_vec()).await;
    let file = file["id"].as_str().unwrap();

    let attempts = [
        app.api(Method::GET, &format!("/files/{file}"), &bob),
        app.api(Method::GET, &format!("/files/{file}/content"), &bob),
        app.api(Method::HEAD, &format!("/files/{file}/content"), &bob),
        app.api(Method::PATCH, &format!("/files/{file}"), &bob)
            .json(&serde_json::json!({ "name": "x" })),
        app.api(Method::DELETE, &format!("/files/{file}"), &bob),
        app.api(Method::GET, &format!("/folders/{folder}"), &bob),
        app.api(Method::PATCH, &format!("/folders/{folder}"), &bob)
            .json(&serde_json::json!({ "name": "x" })),
        app.api(Method::DELETE, &format!("/folders/{folder}"), &bob),
        app.api(Method::POST, "/folders", &bob)
            .json(&serde_json::json!({ "parent_id": folder, "name": "x" })),
        app.api(Method::PUT, "/files", &bob)
            .query(&[("folder_id", folder), ("name", "x")])
            .body("x"),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        assert_eq!(response.status(), 404, "{}", response.url());
    }
    let anonymous = app
        .client
        .get(format!("{}/api/v1/files/{file}/content", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let mine = content(&app, &alice, file).await.send().await.unwrap();
    assert_eq!(mine.bytes().await.unwrap().as_ref(), b"mine", "still there, untouched");
}

#[tokio::test]
async fn a_connection_dropped_mid_upload_leaves_no_file_and_no_bytes() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "PUT /api/v1/files?name=cut.bin HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        64 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..20 {
        stream.write_all(&[9; 1 << 20]).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(stream);
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = app.stored_objects().await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "no temp file, no object, no unfinished multipart upload");
    let listing: Value = app.get_json("/folders/root", &token).await;
    assert_eq!(listing["total"], 0);
    assert_eq!(listing["usage"]["used"], 0);
}

#[tokio::test]
async fn a_multipart_form_upload_keeps_the_folder_tree() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let form = reqwest::multipart::Form::new()
        .text("folder_id", "")
        .part(
            "files",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("Trip/2026/beach.png"),
        )
        .part("files", reqwest::multipart::Part::bytes(b"hi".to_vec()).file_name("Trip/notes.txt"));
    let response = app.api(Method::POST, "/files", &token).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["files"].as_array().unwrap().len(), 2);
    let root: Value = app.get_json("/folders/root", &token).await;
    assert_eq!(root["folders"][0]["name"], "Trip");
    let trip = root["folders"][0]["id"].as_str().unwrap();
    let trip: Value = app.get_json(&format!("/folders/{trip}"), &token).await;
    assert_eq!(trip["folders"][0]["name"], "2026");
    assert_eq!(trip["files"][0]["name"], "notes.txt");

    let empty = reqwest::multipart::Form::new().text("folder_id", "");
    let response = app.api(Method::POST, "/files", &token).multipart(empty).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn read_tokens_cannot_upload_and_deleted_accounts_leave_no_bytes() {
    let app = spawn_app().await;
    let (user, token) = app.user_with_token("ada@example.com").await;
    upload_json(&app, &token, None, "a.txt", b"a".to_vec()).await;
    let read = domain::tokens::create(
        &app.db,
        &user,
        "read",
        domain::account::TokenScope::Read,
        None,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(app.put_file(&read.secret, None, "b.txt", b"b".to_vec()).await.status(), 403);
    assert_eq!(app.stored_objects().await, 1);

    let storage = domain::storage::BlobStore::from_config(&app.config).await.unwrap();
    let state = domain::state::AppState::new(app.config.clone(), app.db.clone(), storage);
    domain::users::delete(
        &state,
        &user,
        "correct horse battery staple".to_owned().into(),
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(app.stored_objects().await, 0);
}

#[tokio::test]
async fn a_user_content_origin_gets_signed_links_that_cannot_be_altered() {
    let app = spawn_app_with(|config| {
        config.user_content_url = Some("http://usercontent.example".into());
    })
    .await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = upload_json(&app, &token, None, "photo.png", PNG.to_vec()).await;
    let response = content(&app, &token, file["id"].as_str().unwrap()).await.send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = header(&response, "location").to_owned();
    let path =
        location.strip_prefix("http://usercontent.example").expect("on the user-content origin");
    assert!(path.starts_with("/c/"), "{location}");

    // The user-content origin (same binary) serves it without any credentials.
    let anonymous = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
    assert_eq!(anonymous.status(), 200);
    assert!(header(&anonymous, "content-security-policy").starts_with("sandbox;"));
    assert_eq!(anonymous.bytes().await.unwrap().as_ref(), PNG);

    let (payload, signature) = path.rsplit_once('.').unwrap();
    let tampered = [
        format!("{payload}.{}", signature.replace(|c: char| c.is_ascii_alphabetic(), "A")),
        path.replacen(".v.", ".d.", 1),
    ];
    for bad in tampered {
        let response = app.client.get(format!("{}{bad}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{bad}");
    }
}

#[tokio::test]
async fn s3_downloads_can_redirect_to_presigned_urls() {
    if std::env::var("TEST_S3_ENDPOINT").is_err() {
        return; // local disk has no presigned URLs (the S3 run covers this)
    }
    let app = spawn_app_with(|config| config.s3_presigned_downloads = true).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = upload_json(&app, &token, None, "photo.png", PNG.to_vec()).await;
    let response = content(&app, &token, file["id"].as_str().unwrap()).await.send().await.unwrap();
    assert_eq!(response.status(), 302);
    let presigned = reqwest::get(header(&response, "location")).await.unwrap();
    assert_eq!(presigned.status(), 200);
    assert!(header(&presigned, "content-disposition").contains("photo.png"));
    assert_eq!(presigned.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test]
async fn profile_pictures_use_the_same_storage_and_only_images_are_accepted() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    assert_eq!(app.api(Method::GET, "/me/avatar", &token).send().await.unwrap().status(), 404);
    let not_image = app.api(Method::PUT, "/me/avatar", &token).body("<svg/>").send().await.unwrap();
    assert_eq!(not_image.status(), 422);
    assert_eq!(app.stored_objects().await, 0);
    for _ in 0..2 {
        let put =
            app.api(Method::PUT, "/me/avatar", &token).body(PNG.to_vec()).send().await.unwrap();
        assert_eq!(put.status(), 204);
    }
    assert_eq!(app.stored_objects().await, 1, "the replaced picture's bytes are gone");
    let me: Value = app.get_json("/me", &token).await;
    assert_eq!(me["has_avatar"], true);
    let picture = app.api(Method::GET, "/me/avatar", &token).send().await.unwrap();
    assert_eq!(header(&picture, "content-security-policy"), "sandbox");
    // Kept re-encoded (the 1×1 PNG has transparency: lossless WebP), never enlarged.
    assert_eq!(header(&picture, "content-type"), "image/webp");
    let kept = image::load_from_memory(&picture.bytes().await.unwrap()).unwrap();
    assert_eq!((kept.width(), kept.height()), (1, 1));

    // A wide photo: its centre square, 256 px on a side, as JPEG — left and right cut off.
    let mut photo = image::RgbImage::from_pixel(900, 600, image::Rgb([200, 0, 0]));
    for x in 150..750 {
        for y in 0..600 {
            photo.put_pixel(x, y, image::Rgb([0, 0, 200]));
        }
    }
    let mut encoded = std::io::Cursor::new(Vec::new());
    photo.write_to(&mut encoded, image::ImageFormat::Png).unwrap();
    let put = app.api(Method::PUT, "/me/avatar", &token).body(encoded.into_inner()).send().await;
    assert_eq!(put.unwrap().status(), 204);
    let picture = app.api(Method::GET, "/me/avatar", &token).send().await.unwrap();
    assert_eq!(header(&picture, "content-type"), "image/jpeg");
    let kept = image::load_from_memory(&picture.bytes().await.unwrap()).unwrap().to_rgb8();
    assert_eq!(kept.dimensions(), (256, 256));
    for (x, y) in [(2, 2), (253, 128), (128, 253)] {
        let image::Rgb([r, _, b]) = *kept.get_pixel(x, y);
        assert!(b > 150 && r < 60, "only the blue centre is kept: {x},{y} is {r},{b}");
    }
    // A file that says it is a PNG but is not one is refused, and the picture stays.
    let broken = [&PNG[..16], &[0u8; 64][..]].concat();
    let put = app.api(Method::PUT, "/me/avatar", &token).body(broken).send().await.unwrap();
    assert_eq!(put.status(), 422);
    assert_eq!(app.stored_objects().await, 1);
    assert_eq!(app.api(Method::DELETE, "/me/avatar", &token).send().await.unwrap().status(), 204);
    assert_eq!(app.stored_objects().await, 0);
}

#[tokio::test]
async fn a_folder_deleted_during_an_upload_gets_404_and_keeps_nothing() {
    use tokio::io::AsyncReadExt;
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let folder = app.create_folder(&token, None, "Doomed").await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "PUT /api/v1/files?name=late.bin&folder_id={folder} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[1; 1024]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let deleted =
        app.api(Method::DELETE, &format!("/folders/{folder}"), &token).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    stream.write_all(&[2; 1024]).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert_eq!(app.stored_objects().await, 0);
    assert_eq!(app.get_json("/folders/root", &token).await["usage"]["used"], 0);
}
