//! A share link counts what it serves: every response that sends a file's first byte takes one
//! download, however the query and the `Range` are written; a limited link's later ranges count
//! too unless they belong to a counted transfer; `HEAD`, prefetches and chat apps' link-preview
//! robots never take one. Signed content links stay bound to the share they were issued for.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A link to a new 1,000-byte file of a new account with `rules`: (token, slug, file, link id).
async fn limited_link(app: &TestApp, rules: Value) -> (String, String, String, String) {
    let (_, token) = app.user_with_token("ada@example.com").await;
    let file = app.put_file(&token, None, "clip.bin", vec![7; 1000]).await;
    let file = file.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let mut body = json!({ "file_ids": [file] });
    body.as_object_mut().unwrap().extend(rules.as_object().unwrap().clone());
    let link = app.api(Method::POST, "/shares", &token).json(&body).send().await.unwrap();
    assert_eq!(link.status(), 201);
    let link: Value = link.json().await.unwrap();
    let slug = link["slug"].as_str().unwrap().to_owned();
    (token, slug, file, link["id"].as_str().unwrap().to_owned())
}

async fn downloads(app: &TestApp, token: &str) -> i64 {
    app.get_json("/shares", token).await["shares"][0]["downloads"].as_i64().unwrap()
}

fn fetch(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client.request(method, format!("{}{path}", app.address))
}

#[tokio::test]
async fn every_transfer_of_a_files_first_byte_counts_whatever_the_query_or_range_says() {
    let app = spawn_app().await;
    let (token, slug, file, _) = limited_link(&app, json!({ "max_downloads": 4 })).await;
    let path = format!("/s/{slug}/files/{file}");
    // Without `?download=1`, a malformed range (whole file), a suffix covering it all, a range
    // written with a leading zero: each sends byte 0, each counts.
    for (range, status) in [(None, 200), (Some("bytes=5-1"), 200), (Some("bytes=-5000"), 206)] {
        let mut request = fetch(&app, Method::GET, &path);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{range:?}");
        assert_eq!(response.bytes().await.unwrap()[0], 7);
    }
    assert_eq!(downloads(&app, &token).await, 3);
    let leading_zero = fetch(&app, Method::GET, &path).header("range", "bytes=00-");
    assert_eq!(leading_zero.send().await.unwrap().status(), 206);
    assert_eq!(downloads(&app, &token).await, 4);
    assert_eq!(fetch(&app, Method::GET, &path).send().await.unwrap().status(), 410, "used up");
}

#[tokio::test]
async fn a_limited_links_later_ranges_count_unless_they_continue_a_counted_transfer() {
    let app = spawn_app().await;
    let (token, slug, file, _) = limited_link(&app, json!({ "max_downloads": 3 })).await;
    let path = format!("/s/{slug}/files/{file}");
    let skipping =
        fetch(&app, Method::GET, &path).header("range", "bytes=1-").send().await.unwrap();
    assert_eq!(skipping.status(), 206);
    assert_eq!(downloads(&app, &token).await, 1, "all but the first byte is still a download");
    let cookie = skipping.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let seek =
        fetch(&app, Method::GET, &path).header("range", "bytes=500-").header("cookie", &cookie);
    assert_eq!(seek.send().await.unwrap().status(), 206);
    assert_eq!(downloads(&app, &token).await, 1, "a seek in the same transfer is free");
    let forged = fetch(&app, Method::GET, &path)
        .header("range", "bytes=500-")
        .header("cookie", "pannier_transfer=9999999999.AAAA");
    assert_eq!(forged.send().await.unwrap().status(), 206);
    assert_eq!(downloads(&app, &token).await, 2, "a forged transfer cookie is no transfer");
    // HEAD and an unsatisfiable range send no bytes and take nothing.
    assert_eq!(fetch(&app, Method::HEAD, &path).send().await.unwrap().status(), 200);
    let beyond = fetch(&app, Method::GET, &path).header("range", "bytes=5000-");
    assert_eq!(beyond.send().await.unwrap().status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(downloads(&app, &token).await, 2);
}

#[tokio::test]
async fn link_preview_robots_and_prefetches_get_the_page_and_never_a_download() {
    let app = spawn_app().await;
    let (token, slug, file, _) =
        limited_link(&app, json!({ "max_downloads": 1, "label": "Holiday clip" })).await;
    let file_path = format!("/s/{slug}/files/{file}?download=1");
    let zip_path = format!("/s/{slug}/zip");
    for path in [&file_path, &zip_path] {
        for agent in [
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "TelegramBot (like TwitterBot)",
            "WhatsApp/2.23.20.0",
            "facebookexternalhit/1.1",
        ] {
            let robot = fetch(&app, Method::GET, path).header("user-agent", agent);
            let response = robot.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{agent} on {path}");
            assert_eq!(response.headers()["location"], format!("/s/{slug}"));
        }
        let prefetch = fetch(&app, Method::GET, path).header("sec-purpose", "prefetch");
        assert_eq!(prefetch.send().await.unwrap().status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(fetch(&app, Method::HEAD, &file_path).send().await.unwrap().status(), 200);
    assert_eq!(downloads(&app, &token).await, 0, "nothing was spent");
    let page = fetch(&app, Method::GET, &format!("/s/{slug}")).header("user-agent", "Slackbot 1.0");
    let page = page.send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"property="og:title" content="Holiday clip""#), "{page}");
    assert!(!page.contains(&format!("src=\"/s/{slug}/files/")), "no inline preview spends it");
    assert_eq!(fetch(&app, Method::GET, &file_path).send().await.unwrap().status(), 200);
    assert_eq!(fetch(&app, Method::GET, &file_path).send().await.unwrap().status(), 410);
}

#[tokio::test]
async fn signed_content_links_stop_when_their_share_is_revoked_expires_or_changes_password() {
    let app = spawn_app_with(|config| {
        config.user_content_url = Some("http://usercontent.example".into());
    })
    .await;
    let (token, slug, file, id) = limited_link(&app, json!({})).await;
    let (app, token, slug, file, id) = (&app, &token, &slug, &file, &id);
    let signed = || async {
        let response = fetch(app, Method::GET, &format!("/s/{slug}/files/{file}")).send().await;
        let response = response.unwrap();
        assert_eq!(response.status(), 302);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.strip_prefix("http://usercontent.example").unwrap().to_owned()
    };
    let works =
        |path: String| async move { fetch(app, Method::GET, &path).send().await.unwrap().status() };
    let change = |body: Value| async move {
        let response = app.api(Method::PATCH, &format!("/shares/{id}"), token).json(&body);
        assert_eq!(response.send().await.unwrap().status(), 200);
    };

    let link = signed().await;
    assert_eq!(works(link.clone()).await, 200);
    change(json!({ "password": "a new secret" })).await;
    assert_eq!(works(link).await, 404, "a new password voids links made before it");
    change(json!({ "password": null })).await;

    let link = signed().await;
    change(
        json!({ "expires_at": (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339() }),
    )
    .await;
    assert_eq!(works(link.clone()).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(works(link).await, 404, "an expired share's links stop");
    change(json!({ "expires_at": null })).await;

    let link = signed().await;
    let revoked = app.api(Method::DELETE, &format!("/shares/{id}"), token).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(works(link).await, 404, "a revoked share's links stop");
}

#[tokio::test]
async fn repeated_views_are_one_log_entry_and_old_entries_are_pruned() {
    let app = spawn_app().await;
    let (token, slug, _, id) = limited_link(&app, json!({})).await;
    for _ in 0..3 {
        let page = fetch(&app, Method::GET, &format!("/s/{slug}")).send().await.unwrap();
        assert_eq!(page.status(), 200);
    }
    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"][0]["views"], 3, "every view counts");
    let events = app.get_json(&format!("/shares/{id}/events"), &token).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "one entry: {events}");

    {
        use sea_orm::{ActiveModelTrait, Set};
        domain::entities::share_events::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            share_id: Set(uuid::Uuid::parse_str(&id).unwrap()),
            kind: Set("view".into()),
            ip: Set(Some("203.0.113.9".into())),
            created_at: Set(chrono::Utc::now() - chrono::TimeDelta::days(91)),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    let events = app.get_json(&format!("/shares/{id}/events"), &token).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 2);
    assert_eq!(domain::shares::prune_events(&app.state).await.unwrap(), 1);
    let events = app.get_json(&format!("/shares/{id}/events"), &token).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "the 91-day-old entry went");
}

#[tokio::test]
async fn a_zip_of_more_files_than_allowed_is_refused_before_any_row_is_read_or_counted() {
    let app = spawn_app_with(|config| config.max_zip_files = 2).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let folder = app.create_folder(&token, None, "Many").await;
    let sub = app.create_folder(&token, Some(&folder), "Sub").await;
    for (place, name) in [(&folder, "a.txt"), (&folder, "b.txt"), (&sub, "c.txt")] {
        assert_eq!(app.put_file(&token, Some(place), name, b"x".to_vec()).await.status(), 201);
    }
    let link = app.api(Method::POST, "/shares", &token).json(&json!({ "folder_id": folder }));
    let slug = link.send().await.unwrap().json::<Value>().await.unwrap()["slug"].clone();
    let zip = fetch(&app, Method::GET, &format!("/s/{}/zip", slug.as_str().unwrap()));
    let zip = zip.send().await.unwrap();
    assert_eq!(zip.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = zip.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("more than 2 files"), "{body}");
    assert_eq!(downloads(&app, &token).await, 0, "a refused zip takes no download");
}
