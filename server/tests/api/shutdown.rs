//! Graceful shutdown: in-flight requests finish; stuck ones are cut off after the timeout.

use std::time::{Duration, Instant};

use crate::helpers::spawn_app_with;

const BIG: usize = 64 * 1024 * 1024;

fn site_with_big_file() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("big.bin"), vec![7u8; BIG]).unwrap();
    site
}

#[tokio::test]
async fn in_flight_requests_finish_after_the_stop_signal() {
    let site = site_with_big_file();
    let mut app = spawn_app_with(|config| config.site_root = site.path().to_path_buf()).await;
    let mut response = app.get("/big.bin").await;
    let mut received = response.chunk().await.unwrap().unwrap().len();
    assert!(received < BIG, "the download must still be in flight");

    let _ = app.stop.take().unwrap().send(());
    while let Some(chunk) = response.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, BIG, "the whole file arrives despite the shutdown");
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stopped.take().unwrap()).await;
    assert!(stopped.unwrap().unwrap().is_ok());
    assert!(
        app.client.get(format!("{}/healthz", app.address)).send().await.is_err(),
        "no new requests"
    );
}

#[tokio::test]
async fn a_stuck_request_cannot_hold_shutdown_past_the_timeout() {
    let site = site_with_big_file();
    let mut app = spawn_app_with(|config| {
        config.site_root = site.path().to_path_buf();
        config.shutdown_timeout_secs = 1;
    })
    .await;
    let mut response = app.get("/big.bin").await;
    let _first = response.chunk().await.unwrap();
    let started = Instant::now();
    let _ = app.stop.take().unwrap().send(());
    // Never read the rest: the server cannot finish this response.
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stopped.take().unwrap()).await;
    assert!(stopped.unwrap().unwrap().is_ok());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "{waited:?}");
    drop(response);
}

/// Told to stop with a drain delay, an instance fails `/readyz` at once but keeps serving
/// (answers say `Connection: close`, so keep-alive clients such as a proxy move on), then
/// refuses connections; what was in flight arrives whole.
#[tokio::test]
async fn draining_fails_readyz_first_then_refuses_connections() {
    let site = site_with_big_file();
    let mut app = spawn_app_with(|config| {
        config.site_root = site.path().to_path_buf();
        config.drain_delay_secs = 2;
    })
    .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let mut response = app.get("/big.bin").await;
    let mut received = response.chunk().await.unwrap().unwrap().len();

    let stopped_at = Instant::now();
    let _ = app.stop.take().unwrap().send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ready = reqwest::get(format!("{}/readyz", app.address)).await.unwrap();
    assert_eq!(ready.status(), 503, "draining is not ready");
    assert_eq!(ready.headers()["connection"], "close");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "draining");
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving while draining");

    while let Some(chunk) = response.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, BIG, "the download in flight arrives whole");
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stopped.take().unwrap()).await;
    assert!(stopped.unwrap().unwrap().is_ok());
    assert!(stopped_at.elapsed() >= Duration::from_secs(2), "served through the drain delay");
    assert!(reqwest::get(format!("{}/healthz", app.address)).await.is_err(), "then refused");
}
