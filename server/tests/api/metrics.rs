//! `/metrics`: on its own listener only, optionally behind a token, and readable by a real
//! Prometheus text parser (the reference Python client's, `scripts/parse-metrics.py`) with the
//! series the README names.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// One parsed sample: `{"name", "type", "labels", "value"}`.
struct Scrape(Vec<Value>);

async fn scrape(app: &TestApp) -> Scrape {
    let url = app.metrics_url.as_deref().expect("a metrics listener");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    let python = format!("{}/.cache/pannier-venv/bin/python", std::env::var("HOME").unwrap());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/parse-metrics.py");
    let mut parser = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test venv exists (scripts/bootstrap.sh test)");
    parser.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = parser.wait_with_output().unwrap();
    assert!(output.status.success(), "{}\n{text}", String::from_utf8_lossy(&output.stderr));
    let samples = String::from_utf8(output.stdout).unwrap();
    Scrape(samples.lines().map(|line| serde_json::from_str(line).unwrap()).collect())
}

impl Scrape {
    /// The first sample of `name` whose labels include every pair of `labels`.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Value> {
        self.0.iter().find(|sample| {
            sample["name"] == name
                && labels.iter().all(|(key, value)| sample["labels"][key] == *value)
        })
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let sample = self.find(name, labels).unwrap_or_else(|| panic!("no {name} {labels:?}"));
        sample["value"].as_f64().unwrap()
    }
}

#[tokio::test]
async fn requests_bytes_queries_and_pool_are_counted_by_route_template_not_raw_path() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let uploaded = app.put_file(&token, None, "a.txt", vec![b'x'; 1000]).await;
    assert_eq!(uploaded.status(), 201);
    let id = uploaded.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let content = app.api(Method::GET, &format!("/files/{id}/content"), &token).send().await;
    assert_eq!(content.unwrap().bytes().await.unwrap().len(), 1000);
    assert_eq!(
        app.api(Method::GET, &format!("/files/{id}"), &token).send().await.unwrap().status(),
        200
    );

    let scrape = scrape(&app).await;
    let by_template = [("route", "/api/v1/files/{id}"), ("method", "GET"), ("status", "2xx")];
    assert!(scrape.value("http_requests_total", &by_template) >= 1.0);
    assert!(
        scrape.0.iter().all(|sample| !sample["labels"].to_string().contains(&id)),
        "no label carries a raw path or id"
    );
    let content = [("route", "/api/v1/files/{id}/content"), ("le", "+Inf")];
    assert!(scrape.value("http_request_duration_seconds_bucket", &content) >= 1.0);
    assert!(scrape.value("pannier_bytes_uploaded_total", &[]) >= 1000.0);
    assert!(scrape.value("pannier_bytes_downloaded_total", &[]) >= 1000.0);
    assert!(scrape.value("pannier_uploads_total", &[("outcome", "accepted")]) >= 1.0);
    assert!(scrape.value("pannier_db_query_duration_seconds_count", &[("kind", "select")]) >= 1.0);
    assert!(scrape.find("pannier_db_pool_connections", &[("state", "idle")]).is_some());
    assert!(scrape.find("pannier_sessions", &[]).is_some());
    assert!(scrape.find("http_requests_in_flight", &[]).is_some());
    assert!(scrape.find("pannier_breaker_open", &[("dependency", "database")]).is_some());

    // Never on the public listener.
    assert_eq!(app.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    let app = spawn_app_with(|config| config.rate_requests = 1).await;
    for _ in 0..3 {
        app.get("/api/v1/me").await;
    }
    let scrape = scrape(&app).await;
    assert!(scrape.value("pannier_rate_limited_total", &[("budget", "requests")]) >= 2.0);
}

#[tokio::test]
async fn with_a_token_set_a_scrape_must_bring_it() {
    let app = spawn_app_with(|config| config.metrics_token = Some("metrics-s3cret".into())).await;
    let url = app.metrics_url.clone().unwrap();
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(client.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    let allowed = client.get(&url).bearer_auth("metrics-s3cret").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test]
async fn an_empty_bind_turns_the_listener_off() {
    let app = spawn_app_with(|config| config.metrics_bind = String::new()).await;
    assert!(app.metrics_url.is_none());
}
