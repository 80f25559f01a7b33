//! The hot requests' SQL statements, counted on the app's own pool: what each needs the first
//! time (nothing cached yet) and again (nothing changed since). A change that adds a
//! statement to one of them fails here — raise the number only on purpose.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, browser, spawn_app};

/// Statements `request` made the app run (background work is not counted).
async fn statements(app: &TestApp, request: reqwest::RequestBuilder) -> u64 {
    let before = app.state.statements.count();
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
    app.state.statements.count() - before
}

/// The statements of each hot request, cold and again, on a fresh app; `None` when another
/// test's change of an account, a token or a link (process-wide epochs: every cache of this
/// process retired) came in between, or the run outlasted the caches' time to live, so what
/// was counted is not this run's own.
async fn count_hot_requests() -> Option<Vec<(&'static str, u64)>> {
    let app = spawn_app().await;
    // What this run reads is cached for `TTL`: a run slower than that (a loaded machine) saw
    // entries expire, and counts their reloads.
    let started = std::time::Instant::now();
    let (_, token) = app.user_with_token("ada@example.com").await;
    let mut ids = Vec::new();
    for name in ["a.txt", "b.txt", "c.txt"] {
        let stored = app.put_file(&token, None, name, b"hello".to_vec()).await;
        ids.push(stored.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let share = app
        .api(Method::POST, "/shares", &token)
        .json(&serde_json::json!({ "folder_id": "root" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let slug = share["slug"].as_str().unwrap().to_owned();
    let signed_in = browser();
    assert_eq!(
        app.sign_up(&signed_in, "bo@example.com", "correct horse battery").await.status(),
        200
    );
    let url = |path: &str| format!("{}{path}", app.address);
    let listing = || app.api(Method::GET, "/folders/root", &token);
    let download = || app.api(Method::GET, &format!("/files/{}/content", ids[0]), &token);
    let page = || signed_in.get(url("/files"));
    let share_page = || app.client.get(url(&format!("/s/{slug}")));
    let shared_file = || app.client.get(url(&format!("/s/{slug}/files/{}", ids[1])));
    let upload = || app.api(Method::PUT, "/files?name=d.txt", &token).body(b"hello".to_vec());

    // The account's first page makes its root folder (a change of its tree).
    statements(&app, page()).await;
    let epochs = domain::cache::process_epochs();
    let mut counted = Vec::new();
    for (name, request) in [
        ("listing, first", listing()),
        ("listing, again", listing()),
        ("download, first", download()),
        ("download, again", download()),
        ("upload", upload()),
        ("files page, first", page()),
        ("files page, again", page()),
        ("share page, first", share_page()),
        ("share page, again", share_page()),
        ("shared file, first", shared_file()),
        ("shared file, again", shared_file()),
    ] {
        // The token's identity cached just before (the account's own requests keep it).
        statements(&app, app.api(Method::GET, "/me", &token)).await;
        counted.push((name, statements(&app, request).await));
    }
    eprintln!("hot requests counted in {:?}", started.elapsed());
    (domain::cache::process_epochs() == epochs && started.elapsed() < domain::cache::TTL)
        .then_some(counted)
}

#[tokio::test]
async fn hot_requests_run_a_handful_of_statements_and_none_when_nothing_changed() {
    // Cold, a listing reads the folder, counts its folders and files, reads the page of files
    // and sums the owner's use; a download reads the file's row; an upload takes the owner's
    // lock, finds the folder and a free name and inserts, and a text file's row queues the
    // job that reads its text for search (its quota check reads more when a quota is set). The first page of an instance reads its name (settings). A shared file
    // needs its row and folder, cold; a share page also the link, its folder tree and its
    // owner. Pages seen again come from their snapshots (server/src/snapshots.rs).
    let expected = [
        ("listing, first", 5),
        ("listing, again", 0),
        ("download, first", 1),
        ("download, again", 0),
        ("upload", 6),
        ("files page, first", 5),
        ("files page, again", 0),
        ("share page, first", 8),
        ("share page, again", 0),
        ("shared file, first", 2),
        ("shared file, again", 0),
    ];
    // Tests run side by side in this process, and their sign-ups, tokens and links retire
    // every cache now and then, and their load slows a run past the caches' time to live:
    // counted again until one run had the process to itself (at the latest once they ended).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let counted = loop {
        if let Some(counted) = count_hot_requests().await {
            break counted;
        }
        assert!(std::time::Instant::now() < deadline, "every run was disturbed by other tests");
    };
    assert_eq!(counted, expected, "statements per request (actual, then expected)");
}
