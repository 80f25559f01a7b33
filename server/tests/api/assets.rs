//! Static assets: hashed bundle cached forever, precompressed variants, ETags on the rest.
//! These read the site cargo-leptos built (`make test` builds it first).

use crate::helpers::{find_asset, spawn_app};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The hashed JS, WASM and CSS URLs the home page references.
async fn bundle_urls(app: &crate::helpers::TestApp) -> Vec<String> {
    let html = app.get("/").await.text().await.unwrap();
    let urls: Vec<String> = [(".js"), (".wasm"), (".css")]
        .iter()
        .filter_map(|suffix| find_asset(&html, "/pkg/pannier.", suffix))
        .collect();
    assert_eq!(
        urls.len(),
        3,
        "the page must reference hashed pannier.*.js/.wasm/.css; is the site built \
         (`cargo leptos build --release --precompress`)? found {urls:?}"
    );
    urls
}

#[tokio::test]
async fn hashed_bundle_files_are_cached_for_a_year() {
    let app = spawn_app().await;
    for url in bundle_urls(&app).await {
        let name = url.trim_start_matches("/pkg/");
        assert!(name.split('.').count() >= 3, "{url} is not content-hashed");
        let response = app.get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["cache-control"], IMMUTABLE, "{url}");
        assert!(!response.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn precompressed_variants_follow_accept_encoding() {
    let app = spawn_app().await;
    for url in bundle_urls(&app).await {
        let fetch = |encoding: &'static str| {
            app.client
                .get(format!("{}{url}", app.address))
                .header("accept-encoding", encoding)
                .send()
        };
        let plain = fetch("identity").await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "{url}");
        let plain_len = plain.bytes().await.unwrap().len();

        for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
            let response = fetch(accept).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-encoding"], expected, "{url} with {accept}");
            assert_eq!(response.headers()["cache-control"], IMMUTABLE);
            assert!(response.headers()["vary"].to_str().unwrap().contains("accept-encoding"));
            let compressed = response.bytes().await.unwrap().len();
            assert!(compressed < plain_len, "{url}: {expected} {compressed} >= {plain_len}");
        }
    }
}

#[tokio::test]
async fn public_files_get_a_short_max_age_and_an_etag() {
    let app = spawn_app().await;
    let response = app.get("/favicon.svg").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let etag = response.headers()["etag"].clone();

    let again = app
        .client
        .get(format!("{}/favicon.svg", app.address))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = app
        .client
        .get(format!("{}/favicon.svg", app.address))
        .header("if-none-match", "\"0000000000000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn etags_are_the_same_on_every_instance() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let etag = |app: &crate::helpers::TestApp| {
        let url = format!("{}/robots.txt", app.address);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().headers()["etag"].clone() }
    };
    assert_eq!(etag(&a).await, etag(&b).await);
}

#[tokio::test]
async fn assets_base_url_points_the_page_at_a_cdn() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.assets_base_url = "https://cdn.example.test".into();
    })
    .await;
    let html = app.get("/").await.text().await.unwrap();
    assert!(find_asset(&html, "https://cdn.example.test/pkg/pannier.", ".js").is_some(), "{html}");
    assert!(find_asset(&html, "https://cdn.example.test/pkg/pannier.", ".css").is_some());
}
