//! `/healthz`, `/readyz`, request ids and the headers every response carries.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_ok_with_the_version() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn readyz_checks_the_database_and_storage() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["storage"]["status"], "ok");

    // Storage that cannot be written makes the instance unready, saying which check failed.
    if app.config.storage == domain::config::StorageKind::Local {
        std::fs::remove_dir_all(app.config.data_dir.join("tmp")).unwrap();
        let response = app.get("/readyz").await;
        assert_eq!(response.status(), 503);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["checks"]["storage"]["status"], "error");
        assert_eq!(body["checks"]["database"]["status"], "ok");
    }
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone_but_healthz_still_answers() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    app.db.clone().close().await.unwrap();
    // A request that needs the database is told to come back, not that the server broke.
    let api = app.api(reqwest::Method::GET, "/me", &token).send().await.unwrap();
    assert_eq!(api.status(), 503);
    assert_eq!(api.headers()["retry-after"], "2");
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["checks"]["database"]["status"], "error");
    let text = body.to_string();
    assert!(!text.contains("sqlite") && !text.contains("postgres"), "no internals: {text}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/healthz", "/missing"] {
        let response = app.get(path).await;
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{path}: {id}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
    // Only a trusted proxy (the load balancer) may choose a request's id.
    let from_anyone = app.client.get(format!("{}/healthz", app.address));
    let from_anyone = from_anyone.header("x-request-id", "chosen-by-the-client").send().await;
    assert_ne!(from_anyone.unwrap().headers()["x-request-id"], "chosen-by-the-client");
    let behind_proxy = spawn_app_with(|c| c.trusted_proxies = "127.0.0.1/32".into()).await;
    let response = behind_proxy.client.get(format!("{}/healthz", behind_proxy.address));
    let response = response.header("x-request-id", "from-the-load-balancer").send().await;
    assert_eq!(response.unwrap().headers()["x-request-id"], "from-the-load-balancer");
}

#[tokio::test]
async fn request_ids_differ_between_requests() {
    let app = spawn_app().await;
    let a = app.get("/healthz").await.headers()["x-request-id"].clone();
    let b = app.get("/healthz").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
}
