//! File requests over HTTP: visitors upload into the owner's folder through the simple and the
//! resumable routes under `/s/{slug}`, within the request's rules and the owner's quota, see
//! only what they sent, and every upload route goes through the one share policy.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A visitor's browser: the cookies it got from the request's page.
struct Visitor {
    cookie: String,
}

impl TestApp {
    async fn request_link(&self, token: &str, folder: &str, rules: Value) -> Value {
        let body = json!({ "folder_id": folder, "request": rules });
        let response = self.api(Method::POST, "/shares", token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// Opens the request's page as a new visitor; their session cookie.
    async fn open_request(&self, slug: &str) -> Visitor {
        let page = self.client.get(format!("{}/s/{slug}", self.address)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let set_cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(set_cookie.starts_with("pannier_visitor="), "{set_cookie}");
        assert!(set_cookie.contains(&format!("Path=/s/{slug}")) && set_cookie.contains("HttpOnly"));
        assert!(!set_cookie.contains("Max-Age"), "it lasts for the browser session");
        Visitor { cookie: set_cookie.split(';').next().unwrap().to_owned() }
    }

    /// `PUT /s/{slug}/files?name=` as `visitor` (or a script without cookies).
    async fn send(
        &self,
        slug: &str,
        visitor: Option<&Visitor>,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .put(format!("{}/s/{slug}/files", self.address))
            .query(&[("name", name)])
            .body(bytes);
        if let Some(visitor) = visitor {
            request = request.header("cookie", &visitor.cookie).header("origin", &self.address);
        }
        request.send().await.unwrap()
    }

    /// A visitor's resumable upload of 1,000 bytes (`slow.bin`) through `slug` that sends
    /// nothing yet; the creation's answer.
    async fn idle_visitor_upload(&self, slug: &str) -> reqwest::Response {
        let created = self
            .visitor_tus(Method::POST, &format!("/s/{slug}/uploads"))
            .header("upload-length", "1000")
            .header("upload-metadata", metadata("slow.bin"))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        created
    }

    /// A visitor's tus request to `path` (below `/s/{slug}`).
    fn visitor_tus(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
            .header("tus-resumable", "1.0.0")
    }
}

fn metadata(name: &str) -> String {
    format!("filename {}", STANDARD.encode(name))
}

fn slug(share: &Value) -> String {
    share["slug"].as_str().unwrap().to_owned()
}

/// A PNG's first bytes (enough for its type to be recognised).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

#[tokio::test]
async fn visitors_upload_within_the_rules_and_see_only_what_they_sent() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let inbox = app.create_folder(&token, None, "Inbox").await;
    let private = app.put_file(&token, Some(&inbox), "private.txt", b"owner only".to_vec()).await;
    let private: Value = private.json().await.unwrap();
    let private = private["id"].as_str().unwrap();

    for (body, status) in [
        (json!({ "file_ids": [private], "request": {} }), 400),
        (json!({ "folder_id": inbox, "request": { "max_files": 0 } }), 422),
        (json!({ "folder_id": inbox, "request": { "allowed_types": ["a/b/c"] } }), 422),
        (json!({ "folder_id": inbox, "request": { "surprise": 1 } }), 400),
    ] {
        let response = app.api(Method::POST, "/shares", &token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), status, "{body}");
    }
    let rules = json!({
        "max_file_size": 1000, "max_files": 4, "allowed_types": ["TXT", "image/*"]
    });
    let share = app.request_link(&token, &inbox, rules).await;
    assert_eq!(share["request"]["allowed_types"], json!([".txt", "image/*"]));
    let slug = slug(&share);

    let page = app.client.get(format!("{}/s/{slug}", app.address)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("asks you to send files"), "the upload page");
    assert!(!page.contains("private.txt"), "nothing of the folder is shown");
    for path in [format!("/s/{slug}/files/{private}"), format!("/s/{slug}/zip")] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}: a request gives no access to its folder");
    }

    let ada = app.open_request(&slug).await;
    let objects = app.stored_objects().await;
    for (name, bytes, status, code) in [
        ("setup.exe", b"MZ".to_vec(), 415, "unsupported_media_type"),
        ("photo.jpg", b"plain words".to_vec(), 415, "unsupported_media_type"),
        ("big.txt", vec![b'a'; 1001], 413, "file_too_large"),
    ] {
        let response = app.send(&slug, Some(&ada), name, bytes).await;
        assert_eq!(response.status(), status, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
    }
    assert_eq!(app.stored_objects().await, objects, "refused uploads leave no bytes");

    let sent = app.send(&slug, Some(&ada), "notes.txt", vec![b'n'; 100]).await;
    assert_eq!(sent.status(), 201);
    assert_eq!(app.send(&slug, Some(&ada), "pixel", PNG.to_vec()).await.status(), 201);
    let bob = app.open_request(&slug).await;
    assert_eq!(app.send(&slug, Some(&bob), "bob.txt", b"from bob".to_vec()).await.status(), 201);
    let ada_page = app
        .client
        .get(format!("{}/s/{slug}", app.address))
        .header("cookie", &ada.cookie)
        .send()
        .await
        .unwrap();
    assert!(ada_page.headers().get("set-cookie").is_none(), "the session keeps its token");
    let ada_page = ada_page.text().await.unwrap();
    assert!(ada_page.contains("notes.txt") && ada_page.contains("pixel"), "{ada_page}");
    assert!(!ada_page.contains("bob.txt"), "a visitor sees only what they sent");
    assert_eq!(app.send(&slug, Some(&ada), "last.txt", b"last".to_vec()).await.status(), 201);

    let listing = app.get_json(&format!("/folders/{inbox}"), &token).await;
    let mut names: Vec<&str> =
        listing["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["bob.txt", "last.txt", "notes.txt", "pixel", "private.txt"]);
    let list = app.get_json("/shares", &token).await;
    assert_eq!(list["shares"][0]["request"]["received_files"], 4);
    assert_eq!(list["shares"][0]["title"], "Uploads into “Inbox”");
    assert_eq!(list["shares"][0]["state"], "limit_reached");

    let full = app.send(&slug, Some(&bob), "more.txt", b"more".to_vec()).await;
    assert_eq!(full.status(), 410, "four files asked, four received");
    let page = app.client.get(format!("{}/s/{slug}", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 410);

    // The owner widens the rules: the request takes files again; a link to files has no rules.
    let id = share["id"].as_str().unwrap();
    let widened = app
        .api(Method::PATCH, &format!("/shares/{id}"), &token)
        .json(&json!({ "request": { "max_files": 10 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(widened.status(), 200);
    let widened: Value = widened.json().await.unwrap();
    assert_eq!(widened["request"]["allowed_types"], json!([]), "the rules are replaced whole");
    assert_eq!(widened["request"]["received_files"], 4, "what was received stays counted");
    assert_eq!(app.send(&slug, Some(&bob), "more.exe", b"MZ".to_vec()).await.status(), 201);
    let plain = json!({ "file_ids": [private] });
    let plain = app.api(Method::POST, "/shares", &token).json(&plain).send().await.unwrap();
    let plain = plain.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let refused = app
        .api(Method::PATCH, &format!("/shares/{plain}"), &token)
        .json(&json!({ "request": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn totals_and_the_owners_quota_hold_for_visitors() {
    let app = spawn_app().await;
    let (owner, token) = app.user_with_token("ada@example.com").await;
    let slug = slug(&app.request_link(&token, "root", json!({ "max_total_bytes": 1000 })).await);
    assert_eq!(app.send(&slug, None, "a.bin", vec![1; 600]).await.status(), 201, "a script");
    let over = app.send(&slug, None, "b.bin", vec![1; 600]).await;
    assert_eq!(over.status(), 413);
    let message = over.json::<Value>().await.unwrap()["error"]["message"].clone();
    assert!(message.as_str().unwrap().contains("in all"), "{message}");

    domain::files::set_quota(&app.db, &owner, domain::files::QuotaSetting::Bytes(900))
        .await
        .unwrap();
    let quota = app.send(&slug, None, "c.bin", vec![1; 350]).await;
    assert_eq!(quota.status(), 413);
    assert_eq!(quota.json::<Value>().await.unwrap()["error"]["code"], "quota_exceeded");
    let list = app.get_json("/shares", &token).await;
    assert_eq!(list["shares"][0]["request"]["received_bytes"], 600, "counts stay exact");
}

#[tokio::test]
async fn visitors_upload_resumably_and_uploads_in_progress_count() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let slug = slug(
        &app.request_link(&token, "root", json!({ "max_files": 2, "max_file_size": 3_000_000 }))
            .await,
    );
    let create = |length: usize, name: &str| {
        app.visitor_tus(Method::POST, &format!("/s/{slug}/uploads"))
            .header("upload-length", length.to_string())
            .header("upload-metadata", metadata(name))
            .send()
    };
    let too_big = create(3_000_001, "huge.bin").await.unwrap();
    assert_eq!(too_big.status(), 413);
    let first = create(2_000_000, "first.bin").await.unwrap();
    assert_eq!(first.status(), 201);
    let first = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(first.starts_with(&format!("/s/{slug}/uploads/")), "{first}");
    let second = create(10, "second.bin").await.unwrap();
    assert_eq!(second.status(), 201);
    let second = second.headers()["location"].to_str().unwrap().to_owned();
    let third = create(10, "third.bin").await.unwrap();
    assert_eq!(third.status(), 409, "two files asked, two on their way");

    let id = first.rsplit('/').next().unwrap();
    let as_account = app.api(Method::HEAD, &format!("/uploads/{id}"), &token);
    let as_account = as_account.header("tus-resumable", "1.0.0").send().await.unwrap();
    assert_eq!(as_account.status(), 404, "a visitor's upload is reached through its link only");

    let bytes: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    for (start, end) in [(0, 700_000), (700_000, 2_000_000)] {
        let patch = app
            .visitor_tus(Method::PATCH, &first)
            .header("upload-offset", start.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(bytes[start..end].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(patch.status(), 204);
        assert_eq!(patch.headers().contains_key("pannier-file-id"), end == 2_000_000);
    }
    let cancel = app.visitor_tus(Method::DELETE, &second).send().await.unwrap();
    assert_eq!(cancel.status(), 204);
    assert_eq!(create(10, "third.bin").await.unwrap().status(), 201, "a cancelled one frees");

    let list = app.get_json("/shares", &token).await;
    assert_eq!(list["shares"][0]["request"]["received_files"], 1);
    assert_eq!(list["shares"][0]["request"]["received_bytes"], 2_000_000);
    let root = app.get_json("/folders/root", &token).await;
    let file = root["files"].as_array().unwrap().iter().find(|f| f["name"] == "first.bin");
    let id = file.expect("the file is the owner's")["id"].as_str().unwrap().to_owned();
    let content = app.api(Method::GET, &format!("/files/{id}/content"), &token).send().await;
    assert_eq!(content.unwrap().bytes().await.unwrap().as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn every_request_route_goes_through_the_policy() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let open = slug(&app.request_link(&token, "root", json!({})).await);
    let revoked = app.request_link(&token, "root", json!({})).await;
    let id = revoked["id"].as_str().unwrap();
    app.api(Method::DELETE, &format!("/shares/{id}"), &token).send().await.unwrap();
    let expired = slug(&app.request_link(&token, "root", json!({})).await);
    let sql = format!(
        "UPDATE shares SET expires_at = '2001-01-01 00:00:00+00:00' WHERE slug = '{expired}'"
    );
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, &sql).await.unwrap();
    let body = json!({ "folder_id": "root", "password": "open sesame", "request": {} });
    let response = app.api(Method::POST, "/shares", &token).json(&body).send().await.unwrap();
    let locked = slug(&response.json::<Value>().await.unwrap());
    let file = app.put_file(&token, None, "shared.txt", b"x".to_vec()).await;
    let file: Value = file.json().await.unwrap();
    let download_link = json!({ "file_ids": [file["id"]] });
    let response = app.api(Method::POST, "/shares", &token).json(&download_link).send().await;
    let not_a_request = slug(&response.unwrap().json::<Value>().await.unwrap());

    let upload_id = uuid::Uuid::new_v4().to_string();
    for (name, slug, expected) in [
        ("unknown", "A".repeat(24), StatusCode::NOT_FOUND),
        ("malformed", "not-a-slug".to_owned(), StatusCode::NOT_FOUND),
        ("revoked", slug(&revoked), StatusCode::NOT_FOUND),
        ("not a request", not_a_request, StatusCode::NOT_FOUND),
        ("expired", expired, StatusCode::GONE),
        ("locked", locked, StatusCode::UNAUTHORIZED),
    ] {
        for (method, route) in server::shares::REQUEST_ROUTES {
            let path = route.replace("{slug}", &slug).replace("{id}", &upload_id);
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let response = app
                .visitor_tus(method.clone(), &path)
                .query(&[("name", "x.txt")])
                .header("upload-length", "1")
                .header("upload-metadata", metadata("x.txt"))
                .body("x")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), expected, "{name}: {method} {path}");
        }
    }
    let objects = app.stored_objects().await;
    assert_eq!(objects, 1, "nothing was stored but the owner's file");
    assert_eq!(app.send(&open, None, "x.txt", b"x".to_vec()).await.status(), 201);
}

#[tokio::test]
async fn visitors_write_only_into_sub_folders_their_own_uploads_made() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let root =
        app.get_json("/folders/root", &token).await["folder"]["id"].as_str().unwrap().to_owned();
    let public = app.create_folder(&token, None, "Public").await;
    let slug = slug(&app.request_link(&token, &root, json!({})).await);
    let put = |visitor: Option<&Visitor>, name: &str, path: &str| {
        let mut request = app
            .client
            .put(format!("{}/s/{slug}/files", app.address))
            .query(&[("name", name), ("path", path)])
            .body("from a visitor");
        if let Some(visitor) = visitor {
            request = request.header("cookie", &visitor.cookie).header("origin", &app.address);
        }
        request.send()
    };
    let eve = app.open_request(&slug).await;
    assert_eq!(put(Some(&eve), "a.txt", "Public").await.unwrap().status(), 201);
    assert_eq!(put(Some(&eve), "b.txt", "Public/Deeper").await.unwrap().status(), 201);
    let mallory = app.open_request(&slug).await;
    assert_eq!(put(Some(&mallory), "c.txt", "Public").await.unwrap().status(), 201);
    assert_eq!(put(None, "d.txt", "Public").await.unwrap().status(), 201);
    assert_eq!(put(Some(&eve), "e.txt", "../Public").await.unwrap().status(), 422);

    let owners = app.get_json(&format!("/folders/{public}"), &token).await;
    assert_eq!(owners["total"], 0, "nothing landed in the owner's own folder: {owners}");
    let listing = app.get_json("/folders/root", &token).await;
    let mut names: Vec<&str> = listing["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Public", "Public (1)", "Public (2)", "Public (3)"]);
    let eves = listing["folders"].as_array().unwrap().iter().find(|f| f["name"] == "Public (1)");
    let eves =
        app.get_json(&format!("/folders/{}", eves.unwrap()["id"].as_str().unwrap()), &token).await;
    assert_eq!(eves["total"], 2, "a.txt and Deeper: the same visitor's folder is reused: {eves}");
}

#[tokio::test]
async fn a_visitors_idle_upload_stops_holding_the_owners_space_after_half_an_hour() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let inbox = app.create_folder(&token, None, "Inbox").await;
    let slug = slug(&app.request_link(&token, &inbox, json!({ "max_files": 1 })).await);
    let created = app.idle_visitor_upload(&slug).await;
    let expires = created.headers()["upload-expires"].to_str().unwrap();
    let expires = chrono::DateTime::parse_from_rfc2822(expires).unwrap();
    let idle = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        idle <= chrono::TimeDelta::minutes(30),
        "a visitor's upload idles out in 30 min: {idle}"
    );
    assert!(idle > chrono::TimeDelta::minutes(29));

    // Once it has idled out, the janitor frees its place for the next visitor.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE uploads SET expires_at = '2001-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    assert_eq!(domain::uploads::expire_abandoned(&app.state).await.unwrap(), 1);
    let next = app.send(&slug, None, "next.txt", b"next".to_vec()).await;
    assert_eq!(next.status(), 201, "the place it held is free again");
}

#[tokio::test]
async fn the_owner_sees_visitors_uploads_in_progress_and_can_end_them() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let (_, other) = app.user_with_token("bob@example.com").await;
    let inbox = app.create_folder(&token, None, "Inbox").await;
    let share = app.request_link(&token, &inbox, json!({ "max_files": 1 })).await;
    let slug = slug(&share);
    app.idle_visitor_upload(&slug).await;
    let listed = app.get_json("/shares", &token).await;
    let sending = &listed["shares"][0]["request"]["sending"];
    assert_eq!(sending[0]["name"], "slow.bin", "{listed}");
    assert_eq!(sending[0]["length"], 1000);
    let id = sending[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.send(&slug, None, "next.txt", b"x".to_vec()).await.status(),
        409,
        "the place is held"
    );

    // Only the owner can end it, through the server fn behind the /shares page.
    let call = |bearer: &str| {
        app.client
            .post(format!("{}/api/cancel_sending", app.address))
            .bearer_auth(bearer)
            .header("accept", "application/json")
            .form(&[("id", id.as_str())])
            .send()
    };
    assert_eq!(call(&other).await.unwrap().status(), 404, "someone else's upload");
    assert_eq!(call(&token).await.unwrap().status(), 200);
    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"][0]["request"]["sending"], json!([]));
    assert_eq!(app.send(&slug, None, "next.txt", b"x".to_vec()).await.status(), 201, "free again");
    assert_eq!(app.stored_objects().await, 1, "the cancelled upload left no bytes");
}
