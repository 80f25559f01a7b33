//! Circuit breakers against real outages: the test's own s3s-fs and PostgreSQL are stopped
//! and started again under the running app. Requests get a quick 503 with `Retry-After`
//! while the dependency is down, `/readyz` names it, and the app recovers without a restart.

use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::{TestApp, spawn_app_on_own_s3, spawn_app_with};
use crate::services::PrivatePostgres;

/// Sends `request()` until it answers `status` (at most `within`); that answer's timing.
async fn until_status<F, Fut>(within: Duration, status: u16, request: F) -> reqwest::Response
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let started = Instant::now();
    loop {
        let response = request().await;
        if response.status() == status {
            return response;
        }
        assert!(started.elapsed() < within, "still {} after {within:?}", response.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `request()` answers 503 `unavailable` with `Retry-After`, within a second.
async fn refused_quickly<Fut>(request: impl Fn() -> Fut)
where
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let started = Instant::now();
    let response = request().await;
    let took = started.elapsed();
    assert_eq!(response.status(), 503);
    assert!(took < Duration::from_secs(1), "the refusal took {took:?}");
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("not answering"), "{body}");
}

async fn readiness(app: &TestApp) -> (u16, serde_json::Value) {
    let response = app.get("/readyz").await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_stopped_s3_gets_quick_503s_and_the_app_recovers_when_it_is_back() {
    let mut app = spawn_app_on_own_s3().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let uploaded = app.put_file(&token, None, "a.txt", b"hello".to_vec()).await;
    assert_eq!(uploaded.status(), 201);
    let id = uploaded.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let (client, content) =
        (app.client.clone(), format!("{}/api/v1/files/{id}/content", app.address));
    let download = || client.get(&content).bearer_auth(&token).send();
    assert_eq!(download().await.unwrap().status(), 200);
    assert_eq!(readiness(&app).await.1["checks"]["storage"]["breaker"], "closed");

    app.s3().stop();
    for _ in 0..5 {
        refused_quickly(|| async { download().await.unwrap() }).await;
    }
    let upload = || app.put_file(&token, None, "b.txt", b"more".to_vec());
    refused_quickly(upload).await;
    let (status, ready) = readiness(&app).await;
    assert_eq!(status, 503);
    assert_eq!(ready["checks"]["storage"]["status"], "error", "{ready}");
    assert_eq!(ready["checks"]["storage"]["breaker"], "open", "{ready}");
    // What needs only the database still works.
    assert_eq!(app.api(Method::GET, "/folders/root", &token).send().await.unwrap().status(), 200);

    app.s3().start_again().await;
    let back = until_status(Duration::from_secs(5), 200, || async { download().await.unwrap() });
    assert_eq!(back.await.text().await.unwrap(), "hello");
    assert_eq!(readiness(&app).await.0, 200);
    assert_eq!(app.put_file(&token, None, "b.txt", b"more".to_vec()).await.status(), 201);
}

#[tokio::test]
async fn a_stopped_postgres_gets_quick_503s_and_the_app_recovers_when_it_is_back() {
    let postgres = PrivatePostgres::start();
    let url = postgres.url();
    let app = spawn_app_with(|config| config.database_url = Some(url.into())).await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let list = || async { app.api(Method::GET, "/folders/root", &token).send().await.unwrap() };
    assert_eq!(list().await.status(), 200);
    assert_eq!(readiness(&app).await.1["checks"]["database"]["breaker"], "closed");

    postgres.stop();
    // The breaker opens at the next ping (every second); from then on, refusals are at once.
    until_status(Duration::from_secs(10), 503, list).await;
    for _ in 0..5 {
        refused_quickly(list).await;
    }
    let page = app
        .client
        .get(format!("{}/files", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("Temporarily unavailable"));
    let (status, ready) = readiness(&app).await;
    assert_eq!(status, 503);
    assert_eq!(ready["checks"]["database"]["breaker"], "open", "{ready}");
    assert_eq!(app.get("/healthz").await.status(), 200, "liveness does not depend on it");

    postgres.start_again();
    until_status(Duration::from_secs(10), 200, list).await;
    assert_eq!(readiness(&app).await.0, 200);
}
