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
