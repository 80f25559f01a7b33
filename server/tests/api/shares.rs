//! Share links over HTTP: the owner's REST API, and every public route under the one policy —
//! unknown/revoked 404, expired/used-up 410, passwords with a per-link cookie and throttling,
//! the download limit under a race, zips read back by a real `unzip`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

impl TestApp {
    /// Makes a link (201) and returns it.
    pub(crate) async fn share(&self, token: &str, body: Value) -> Value {
        let response = self.api(Method::POST, "/shares", token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    async fn file_id(&self, token: &str, folder: Option<&str>, name: &str, bytes: &[u8]) -> String {
        let response = self.put_file(token, folder, name, bytes.to_vec()).await;
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// `GET` a public path as a visitor (no account), with an optional unlock cookie.
    async fn visit(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// Types `password` into link `slug`'s form, as a browser does.
    async fn unlock(&self, slug: &str, password: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/s/{slug}/unlock", self.address))
            .header("origin", &self.address)
            .header("accept", "text/html")
            .form(&[("password", password)])
            .send()
            .await
            .unwrap()
    }
}

fn slug(share: &Value) -> String {
    share["slug"].as_str().unwrap().to_owned()
}

/// Every public route of `slug`, with `file` where one is needed (from the server's own list).
fn routes(slug: &str, file: &str) -> Vec<String> {
    server::shares::SHARE_ROUTES
        .iter()
        .map(|route| route.replace("{slug}", slug).replace("{file_id}", file))
        .chain([format!("/s/{slug}/files/{file}?download=1"), format!("/s/{slug}/search?q=plan")])
        .collect()
}

async fn set_column(app: &TestApp, slug: &str, column: &str, value: &str) {
    use sea_orm::ConnectionTrait;
    let sql = format!("UPDATE shares SET {column} = {value} WHERE slug = '{slug}'");
    app.db.execute_unprepared(&sql).await.unwrap();
}

#[tokio::test]
async fn owners_create_list_change_and_revoke_links_to_their_own_files_only() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let (_, other) = app.user_with_token("bob@example.com").await;
    let file = app.file_id(&token, None, "plan.txt", b"the plan").await;
    let share = app
        .share(
            &token,
            json!({ "file_ids": [file], "label": "Plan", "max_downloads": 3, "allow_zip": false }),
        )
        .await;
    assert_eq!(share["state"], "active");
    assert_eq!(share["url"], format!("{}/s/{}", app.address, slug(&share)));
    assert!(slug(&share).len() >= 22, "at least 128 bits");
    assert_eq!(share["has_password"], false);

    for (body, status) in [
        (json!({ "file_ids": [file], "folder_id": "root" }), 400),
        (json!({}), 400),
        (json!({ "file_ids": [file], "expires_at": "2001-01-01T00:00:00Z" }), 422),
        (json!({ "file_ids": [file], "max_downloads": 0 }), 422),
        (json!({ "file_ids": [file], "surprise": true }), 400),
    ] {
        let response = app.api(Method::POST, "/shares", &token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), status, "{body}");
    }
    let theirs = app.api(Method::POST, "/shares", &other).json(&json!({ "file_ids": [file] }));
    assert_eq!(theirs.send().await.unwrap().status(), 404, "someone else's file");

    let id = share["id"].as_str().unwrap();
    let changed = app
        .api(Method::PATCH, &format!("/shares/{id}"), &token)
        .json(&json!({ "label": null, "password": "open sesame", "max_downloads": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["has_password"], true);
    assert_eq!(changed["max_downloads"], Value::Null);
    assert_eq!(changed["label"], Value::Null);
    assert_eq!(changed["title"], "plan.txt", "without a label, what it shares");
    let foreign = app.api(Method::PATCH, &format!("/shares/{id}"), &other).json(&json!({}));
    assert_eq!(foreign.send().await.unwrap().status(), 404);

    let list = app.get_json("/shares", &token).await;
    assert_eq!(list["shares"].as_array().unwrap().len(), 1);
    assert_eq!(app.get_json("/shares", &other).await["shares"], json!([]));
    let revoked = app.api(Method::DELETE, &format!("/shares/{id}"), &token).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(app.get_json("/shares", &token).await["shares"][0]["state"], "revoked");
}

#[tokio::test]
async fn every_share_route_goes_through_the_policy() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.file_id(&token, None, "secret-plan.txt", b"the plan").await;
    let make = |extra: Value| {
        let mut body = json!({ "file_ids": [file] });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let open = slug(&app.share(&token, make(json!({}))).await);
    let revoked = app.share(&token, make(json!({}))).await;
    app.api(Method::DELETE, &format!("/shares/{}", revoked["id"].as_str().unwrap()), &token)
        .send()
        .await
        .unwrap();
    let expired = slug(&app.share(&token, make(json!({}))).await);
    set_column(&app, &expired, "expires_at", "'2001-01-01 00:00:00+00:00'").await;
    let used_up = slug(&app.share(&token, make(json!({ "max_downloads": 1 }))).await);
    set_column(&app, &used_up, "downloads", "1").await;
    let locked = slug(&app.share(&token, make(json!({ "password": "open sesame" }))).await);

    let unknown_body =
        app.visit(&format!("/s/{}/zip", "A".repeat(24)), None).await.text().await.unwrap();
    for route in routes(&open, &file) {
        let status = app.visit(&route, None).await.status();
        // A text file has no thumbnail: past the policy, that route says so.
        let works = if route.ends_with("/thumbnail") { 404 } else { 200 };
        assert_eq!(status, works, "{route} works while the link is open");
    }
    for (name, slug, expected) in [
        ("unknown", "A".repeat(24), StatusCode::NOT_FOUND),
        ("malformed", "../../etc".to_owned(), StatusCode::NOT_FOUND),
        ("revoked", slug(&revoked), StatusCode::NOT_FOUND),
        ("expired", expired.clone(), StatusCode::GONE),
        ("used up", used_up.clone(), StatusCode::GONE),
    ] {
        for route in routes(&slug, &file) {
            let response = app.visit(&route, None).await;
            assert_eq!(response.status(), expected, "{name}: {route}");
            let body = response.text().await.unwrap();
            assert!(!body.contains("secret-plan.txt"), "{name}: {route} shows nothing shared");
            if name == "revoked" && route.ends_with("/zip") {
                assert_eq!(body, unknown_body, "a revoked link reads exactly like an unknown one");
            }
        }
    }
    for route in routes(&locked, &file) {
        let response = app.visit(&route, None).await;
        let page = route == format!("/s/{locked}");
        assert_eq!(response.status(), if page { 200 } else { 401 }, "locked: {route}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("secret-plan.txt"), "locked: {route} shows nothing shared");
        if page {
            assert!(body.contains("name=\"password\""), "the page asks for the password");
        }
    }
    // Another file of the same owner is not reachable through the link.
    let other = app.file_id(&token, None, "other.txt", b"not shared").await;
    let response = app.visit(&format!("/s/{open}/files/{other}"), None).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn passwords_unlock_one_link_for_a_while_and_guessing_is_throttled() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.file_id(&token, None, "photo.png", b"\x89PNG\r\n\x1a\nnot really").await;
    let share = app.share(&token, json!({ "file_ids": [file], "password": "open sesame" })).await;
    let first = slug(&share);
    let second =
        slug(&app.share(&token, json!({ "file_ids": [file], "password": "open sesame" })).await);

    let wrong = app.unlock(&first, "guess").await;
    assert_eq!(wrong.status(), 303);
    let location = wrong.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/s/{first}?error=")), "{location}");
    let page = app.visit(&location, None).await.text().await.unwrap();
    assert!(page.contains("That is not the password for this link."));

    let right = app.unlock(&first, "open sesame").await;
    assert_eq!(right.status(), 303);
    let set_cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains(&format!("Path=/s/{first}")), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Max-Age=3600"));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let preview = app.visit(&format!("/s/{first}/files/{file}"), Some(&cookie)).await;
    assert_eq!(preview.status(), 200, "previews need the unlock too, and get it");
    assert_eq!(
        app.visit(&format!("/s/{second}/files/{file}"), Some(&cookie)).await.status(),
        401,
        "the cookie opens one link only"
    );
    let last = cookie.chars().last().unwrap();
    let tampered =
        format!("{}{}", &cookie[..cookie.len() - 1], if last == 'A' { 'B' } else { 'A' });
    let refused = app.visit(&format!("/s/{first}/files/{file}"), Some(&tampered)).await;
    assert_eq!(refused.status(), 401, "a tampered cookie unlocks nothing");
    let id = share["id"].as_str().unwrap();
    app.api(Method::PATCH, &format!("/shares/{id}"), &token)
        .json(&json!({ "password": "new words" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.visit(&format!("/s/{first}/files/{file}"), Some(&cookie)).await.status(),
        401,
        "a new password locks out the old unlocks"
    );

    for _ in 0..5 {
        assert_eq!(app.unlock(&second, "guess").await.status(), 303);
    }
    let throttled = app.unlock(&second, "open sesame").await;
    let location = throttled.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("error=Too%20many"),
        "after five failures even the right one waits: {location}"
    );
    let scripted = app
        .client
        .post(format!("{}/s/{second}/unlock", app.address))
        .header("origin", &app.address)
        .form(&[("password", "open sesame")])
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), 429, "a script is told with the status");
    assert!(scripted.headers().get("set-cookie").is_none());
    assert_eq!(app.visit(&format!("/s/{second}/files/{file}"), None).await.status(), 401);
}

#[tokio::test]
async fn the_last_download_goes_to_exactly_one_of_two_racing_visitors() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.file_id(&token, None, "once.bin", &[7; 100_000]).await;
    let link = app.share(&token, json!({ "file_ids": [file], "max_downloads": 2 })).await;
    let share = slug(&link);
    let path = format!("/s/{share}/files/{file}?download=1");
    let preview = app.visit(&format!("/s/{share}/files/{file}"), None).await;
    assert_eq!(preview.status(), 200, "a preview sends the first byte: it takes a download");
    let transfer = preview.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        transfer.starts_with("pannier_transfer=") && transfer.contains(&format!("Path=/s/{share}"))
    );
    let later_range = app
        .client
        .get(format!("{}/s/{share}/files/{file}", app.address))
        .header("range", "bytes=500-999")
        .header("cookie", transfer.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(later_range.status(), 206);
    let events = format!("/shares/{}/events", link["id"].as_str().unwrap());
    let events = app.get_json(&events, &token).await;
    let kinds: Vec<&str> =
        events["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["preview"], "a player's later ranges in one transfer count once");
    let (a, b) = tokio::join!(app.visit(&path, None), app.visit(&path, None));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 410]);
    assert_eq!(app.visit(&format!("/s/{share}"), None).await.status(), 410);
    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"][0]["downloads"], 2);
    assert_eq!(listed["shares"][0]["state"], "limit_reached");
    let id = listed["shares"][0]["id"].as_str().unwrap();
    let events = app.get_json(&format!("/shares/{id}/events"), &token).await;
    let kinds: Vec<&str> =
        events["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"download") && kinds.contains(&"preview"), "{kinds:?}");
}

#[tokio::test]
async fn a_shared_folder_is_live_and_its_zip_unpacks_to_the_same_bytes() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let trip = app.create_folder(&token, None, "Trip").await;
    let day = app.create_folder(&token, Some(&trip), "Day 1").await;
    app.file_id(&token, Some(&trip), "plan.txt", b"the plan").await;
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
    app.file_id(&token, Some(&day), "été.bin", &big).await;
    let share = slug(&app.share(&token, json!({ "folder_id": trip })).await);
    // Added after the link was made: a folder share is live.
    app.file_id(&token, Some(&day), "later.txt", b"added later").await;

    let page = app.visit(&format!("/s/{share}"), None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Day 1/later.txt") && html.contains("Test Person"), "names and owner");
    assert!(!html.contains("ada@example.com"), "never the owner's email");
    assert!(!html.contains(&trip) && !html.contains(&day), "no folder ids");

    let zip = app.visit(&format!("/s/{share}/zip"), None).await;
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let length: usize = zip.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let bytes = zip.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("share.zip");
    std::fs::write(&archive, &bytes).unwrap();
    let unzip = std::process::Command::new("unzip")
        .arg("-q")
        .arg(&archive)
        .arg("-d")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(unzip.status.success(), "{}", String::from_utf8_lossy(&unzip.stderr));
    let x = dir.path().join("x");
    assert_eq!(std::fs::read(x.join("plan.txt")).unwrap(), b"the plan");
    assert_eq!(std::fs::read(x.join("Day 1/été.bin")).unwrap(), big);
    assert_eq!(std::fs::read(x.join("Day 1/later.txt")).unwrap(), b"added later");

    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"][0]["downloads"], 1, "a zip counts one download");
    assert_eq!(listed["shares"][0]["views"], 1);
}

#[tokio::test]
async fn a_large_folder_share_is_shown_a_hundred_files_a_page() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let folder = app.create_folder(&token, None, "Many").await;
    for n in 0..101 {
        app.file_id(&token, Some(&folder), &format!("file-{n:03}.txt"), b"x").await;
    }
    let share = slug(&app.share(&token, json!({ "folder_id": folder })).await);
    let entries = |html: &str| html.matches("data-testid=\"shared-file\"").count();
    let first = app.visit(&format!("/s/{share}"), None).await.text().await.unwrap();
    assert_eq!(entries(&first), 100);
    assert!(first.contains("Page 1 of 2") && first.contains("101 files"));
    let second = app.visit(&format!("/s/{share}?page=2"), None).await.text().await.unwrap();
    assert_eq!(entries(&second), 1);
    assert!(second.contains("file-100.txt") && !second.contains("file-099.txt"));
}

#[tokio::test]
async fn shared_downloads_go_through_signed_links_that_survive_a_key_rotation() {
    let app = spawn_app_with(|config| {
        config.user_content_url = Some("http://usercontent.example".into());
    })
    .await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.file_id(&token, None, "report.txt", b"the report").await;
    let share = slug(&app.share(&token, json!({ "file_ids": [file], "max_downloads": 2 })).await);
    let signed_link = |response: reqwest::Response| {
        assert_eq!(response.status(), 302, "the policy passed, the bytes come from elsewhere");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let path = location.strip_prefix("http://usercontent.example").unwrap().to_owned();
        assert!(path.starts_with("/c/"), "{location}");
        path
    };
    let download = format!("/s/{share}/files/{file}?download=1");
    let before = signed_link(app.visit(&download, None).await);

    assert!(domain::files::rotate_signing_keys(&app.db, true).await.unwrap());
    let after = signed_link(app.visit(&download, None).await);
    assert_ne!(before.rsplit_once('.').unwrap().1, after.rsplit_once('.').unwrap().1);
    for path in [&before, &after] {
        let response = app.visit(path, None).await;
        assert_eq!(response.status(), 200, "{path} works across the rotation");
        assert_eq!(response.bytes().await.unwrap().as_ref(), b"the report");
    }
    assert_eq!(app.visit(&download, None).await.status(), 410, "each redirect took a download");
}

#[tokio::test]
async fn the_owners_list_of_links_comes_fifty_a_page() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.file_id(&token, None, "a.txt", b"a").await;
    for n in 0..51 {
        app.share(&token, json!({ "file_ids": [file], "label": format!("link {n}") })).await;
    }
    let first = app.get_json("/shares", &token).await;
    assert_eq!(first["shares"].as_array().unwrap().len(), 50);
    assert_eq!((first["page"].as_u64(), first["pages"].as_u64()), (Some(1), Some(2)));
    let second = app.get_json("/shares?page=2", &token).await;
    assert_eq!(second["shares"].as_array().unwrap().len(), 1);
    let mut labels: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page["shares"].as_array().unwrap().iter())
        .map(|share| share["label"].as_str().unwrap().to_owned())
        .collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), 51, "every link once");
}

#[tokio::test]
async fn one_visitor_streams_a_bounded_number_of_zips_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|config| config.max_zips_at_once = 1).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let folder = app.create_folder(&token, None, "Big").await;
    app.file_id(&token, Some(&folder), "big.bin", &vec![9; 8 << 20]).await;
    let share = slug(&app.share(&token, json!({ "folder_id": folder })).await);
    // A zip that is not read: its body cannot be sent, so it stays in progress.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let mut held = socket.connect(app.address[7..].parse().unwrap()).await.unwrap();
    let request = format!("GET /s/{share}/zip HTTP/1.1\r\nHost: x\r\n\r\n");
    held.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0; 1024];
    let read = held.read(&mut head).await.unwrap();
    assert!(
        head[..read].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..read])
    );
    let second = app.visit(&format!("/s/{share}/zip"), None).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(second.headers().contains_key("retry-after"));
    drop(held);
    // The first zip's place is freed once its connection is gone.
    let mut status = 0;
    for _ in 0..50 {
        status = app.visit(&format!("/s/{share}/zip"), None).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_link_has_one_title_on_its_page_and_in_its_owners_list() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let mut ids = Vec::new();
    for name in ["river.jpg", "glacier.jpg", "source-code.zip"] {
        ids.push(app.file_id(&token, None, name, b"bytes").await);
    }
    let folder = app.create_folder(&token, None, "Holiday").await;
    let files = app.share(&token, json!({ "file_ids": ids })).await;
    let one = app.share(&token, json!({ "file_ids": [ids[2]] })).await;
    let holiday = app.share(&token, json!({ "folder_id": folder })).await;
    let everything = app.share(&token, json!({ "folder_id": "root" })).await;
    for (share, title) in [
        (&files, "glacier.jpg and 2 more"),
        (&one, "source-code.zip"),
        (&holiday, "Holiday"),
        (&everything, "All files"),
    ] {
        assert_eq!(share["title"], title, "in the owner's list");
        let html = app.visit(&format!("/s/{}", slug(share)), None).await.text().await.unwrap();
        assert!(html.contains(&format!("<title>{title}")), "on the page: {title}");
    }
    // However many times it is asked (the files' order in the link is not their names').
    for _ in 0..3 {
        let list = app.get_json("/shares", &token).await;
        let titles: Vec<&str> = list["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["title"].as_str().unwrap())
            .collect();
        assert!(titles.contains(&"glacier.jpg and 2 more"), "{titles:?}");
    }
}
