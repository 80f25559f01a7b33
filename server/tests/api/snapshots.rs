//! Kept pages (`server/src/snapshots.rs`): a page served from its snapshot is never staler than
//! a rendered one — it changes with the files, the link, the account and the settings it
//! shows, it is its viewer's only, it stops with its link, it counts its visits, and every
//! answer has its own CSP nonce.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{browser, spawn_app};

/// A page's status, its CSP nonce and its HTML.
async fn page(request: reqwest::RequestBuilder) -> (u16, String, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let policy = response
        .headers()
        .get("content-security-policy")
        .map(|p| p.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next());
    let nonce = nonce.unwrap_or_default().to_owned();
    (status, nonce, response.text().await.unwrap())
}

#[tokio::test]
async fn a_kept_share_page_follows_its_files_and_link_and_stops_with_it() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    assert_eq!(app.put_file(&token, None, "first.txt", b"one".to_vec()).await.status(), 201);
    let link = app.share(&token, json!({ "folder_id": "root" })).await;
    let (slug, id) = (link["slug"].as_str().unwrap(), link["id"].as_str().unwrap());
    let visit = || page(app.client.get(format!("{}/s/{slug}", app.address)));

    let (status, one, html) = visit().await;
    assert_eq!(status, 200);
    assert!(html.contains("first.txt"));
    let (_, two, again) = visit().await;
    assert!(!one.is_empty() && !two.is_empty() && one != two, "a nonce per answer");
    assert!(again.contains(&format!("nonce=\"{two}\"")) && !again.contains(&one), "{again}");
    assert_eq!(again.replace(&two, &one), html, "the same page otherwise");

    assert_eq!(app.put_file(&token, None, "second.txt", b"two".to_vec()).await.status(), 201);
    assert!(visit().await.2.contains("second.txt"), "a new file shows at once");
    let renamed = app
        .api(Method::PATCH, &format!("/shares/{id}"), &token)
        .json(&json!({ "label": "Holiday photos" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert!(visit().await.2.contains("Holiday photos"), "the link's change shows at once");
    let dark =
        app.client.get(format!("{}/s/{slug}", app.address)).header("cookie", "pannier_theme=dark");
    assert!(page(dark).await.2.contains(r#"<html lang="en" class="dark""#), "per theme");
    assert!(!visit().await.2.contains(r#"class="dark""#));

    let listed = app.get_json("/shares", &token).await;
    assert_eq!(listed["shares"][0]["views"], 6, "every visit counts, kept or rendered");

    let soon = (chrono::Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339();
    let expiring = app
        .api(Method::PATCH, &format!("/shares/{id}"), &token)
        .json(&json!({ "expires_at": soon }))
        .send()
        .await
        .unwrap();
    assert_eq!(expiring.status(), 200);
    assert_eq!(visit().await.0, 200);
    assert_eq!(visit().await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(visit().await.0, 410, "an expired link's kept page is not served");
    let revoked = app.api(Method::DELETE, &format!("/shares/{id}"), &token).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(visit().await.0, 404);
}

#[tokio::test]
async fn a_password_protected_page_is_never_kept() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    assert_eq!(app.put_file(&token, None, "secret.txt", b"one".to_vec()).await.status(), 201);
    let link = app.share(&token, json!({ "folder_id": "root", "password": "open sesame" })).await;
    let slug = link["slug"].as_str().unwrap();
    let visitor = browser();
    let unlocked = visitor
        .post(format!("{}/s/{slug}/unlock", app.address))
        .header("origin", &app.address)
        .form(&[("password", "open sesame")])
        .send()
        .await
        .unwrap();
    assert!(unlocked.status().is_redirection(), "{}", unlocked.status());
    let (status, _, html) = page(visitor.get(format!("{}/s/{slug}", app.address))).await;
    assert_eq!(status, 200);
    assert!(html.contains("secret.txt"), "the unlocked visitor sees the files");
    let (_, _, locked) = page(app.client.get(format!("{}/s/{slug}", app.address))).await;
    assert!(!locked.contains("secret.txt"), "another visitor sees the password form: {locked}");
}

#[tokio::test]
async fn a_kept_files_page_is_its_viewers_and_follows_their_files_and_name() {
    let app = spawn_app().await;
    let (ada, bo) = (browser(), browser());
    assert_eq!(app.sign_up(&ada, "ada@example.com", "correct horse battery").await.status(), 200);
    assert_eq!(app.sign_up(&bo, "bo@example.com", "correct horse battery").await.status(), 200);
    let files = |client: &reqwest::Client| page(client.get(format!("{}/files", app.address)));
    let upload = |name: &str| {
        ada.put(format!("{}/api/v1/files?name={name}", app.address))
            .header("origin", &app.address)
            .body("hello")
            .send()
    };

    assert_eq!(upload("report.txt").await.unwrap().status(), 201);
    for _ in 0..2 {
        let (status, _, html) = files(&ada).await;
        assert_eq!(status, 200);
        assert!(html.contains("report.txt"));
        assert!(!files(&bo).await.2.contains("report.txt"), "a page is its viewer's only");
    }
    assert_eq!(upload("later.txt").await.unwrap().status(), 201);
    assert!(files(&ada).await.2.contains("later.txt"), "a new file shows at once");

    domain::settings::set(&app.db, domain::settings::SITE_NAME, "Family Drop").await.unwrap();
    assert!(files(&ada).await.2.contains("Family Drop"), "a new site name shows at once");
    let renamed = app.call(&ada, "update_profile", &[("display_name", "Ada Lovelace")]).await;
    assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap());
    assert!(files(&ada).await.2.contains("Ada Lovelace"), "a new display name shows at once");
}

#[tokio::test]
async fn many_first_visits_at_once_render_a_page_once() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    assert_eq!(app.put_file(&token, None, "popular.txt", b"one".to_vec()).await.status(), 201);
    let visit = |slug: String| {
        let request = app.client.get(format!("{}/s/{slug}", app.address));
        async move { page(request).await }
    };
    let statements = || app.state.statements.count();

    let alone = app.share(&token, json!({ "folder_id": "root" })).await;
    let before = statements();
    assert_eq!(visit(alone["slug"].as_str().unwrap().to_owned()).await.0, 200);
    let one_rendering = statements() - before;

    let popular = app.share(&token, json!({ "folder_id": "root" })).await;
    let slug = popular["slug"].as_str().unwrap().to_owned();
    let before = statements();
    let visits = futures_util::future::join_all((0..20).map(|_| visit(slug.clone()))).await;
    let together = statements() - before;
    assert!(visits.iter().all(|(status, _, html)| *status == 200 && html.contains("popular.txt")));
    assert!(
        together <= one_rendering,
        "20 visits at once ran {together} statements; one rendering runs {one_rendering}"
    );
    let listed = app.get_json("/shares", &token).await;
    let views = listed["shares"].as_array().unwrap().iter().map(|s| s["views"].as_u64().unwrap());
    assert_eq!(views.sum::<u64>(), 21, "every visit counts");
}
