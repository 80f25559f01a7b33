//! The OpenAPI document: generated from the routes, it lists every `/api/v1` operation — no
//! more, no fewer (checked against the list below and by asking the server) — plus the public
//! share routes and a file request's upload routes.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

/// Every operation the API offers (written out here on purpose: a route added without its
/// entry, or an entry without its route, fails this test).
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/v1/me"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/me/avatar"),
    ("put", "/api/v1/me/avatar"),
    ("post", "/api/v1/me/avatar"),
    ("delete", "/api/v1/me/avatar"),
    ("get", "/api/v1/files/{id}"),
    ("patch", "/api/v1/files/{id}"),
    ("delete", "/api/v1/files/{id}"),
    ("get", "/api/v1/files/{id}/content"),
    ("get", "/api/v1/files/{id}/thumbnail"),
    ("put", "/api/v1/files"),
    ("post", "/api/v1/files"),
    ("post", "/api/v1/folders"),
    ("get", "/api/v1/folders/{id}"),
    ("patch", "/api/v1/folders/{id}"),
    ("delete", "/api/v1/folders/{id}"),
    ("post", "/api/v1/shares"),
    ("get", "/api/v1/shares"),
    ("patch", "/api/v1/shares/{id}"),
    ("delete", "/api/v1/shares/{id}"),
    ("get", "/api/v1/shares/{id}/events"),
    ("get", "/api/v1/search"),
    ("post", "/api/v1/uploads"),
    ("options", "/api/v1/uploads"),
    ("head", "/api/v1/uploads/{id}"),
    ("patch", "/api/v1/uploads/{id}"),
    ("delete", "/api/v1/uploads/{id}"),
    ("post", "/api/v1/uploads/{id}/parts"),
];

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

fn operations(document: &Value, prefix: &str) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .filter(|(path, _)| path.starts_with(prefix))
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| ((*method).to_owned(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn the_document_lists_exactly_the_api_routes_and_each_is_served() {
    let app = spawn_app().await;
    let (_, token) = app.user_with_token("ada@example.com").await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let documented = operations(&document, "/api/v1/");
    let expected: BTreeSet<(String, String)> =
        OPERATIONS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(documented, expected);

    // Each documented operation reaches its handler; other methods on those paths are 405
    // (HEAD beside GET and tus' OPTIONS on an upload's URL are the protocol's, not the API's).
    let id = uuid::Uuid::new_v4().to_string();
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        let url = format!("{}{}", app.address, path.replace("{id}", &id));
        for method in METHODS {
            let response = app
                .client
                .request(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), &url)
                .bearer_auth(&token)
                .header("tus-resumable", "1.0.0")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let fallback = status == 404 && body.contains("No such API endpoint");
            if documented.contains(&(method.to_owned(), path.clone())) {
                assert!(!fallback && status != 405, "{method} {path}: {status} {body}");
            } else if !(method == "head" || (method == "options" && path.contains("/uploads/"))) {
                assert_eq!(status, 405, "{method} {path} is served but not documented");
            }
        }
    }

    // Beyond /api/v1: the public share routes and a file request's copies of the upload routes.
    let public = operations(&document, "/s/");
    for (method, path) in server::shares::REQUEST_ROUTES {
        let entry = (method.to_lowercase(), (*path).to_owned());
        assert!(public.contains(&entry), "{entry:?} is not documented");
    }
    for path in [server::shares::SHARED_FILE, server::shares::SHARED_ZIP, server::shares::UNLOCK] {
        assert!(public.iter().any(|(_, p)| p == path), "{path} is not documented");
    }
    let request_upload = &document["paths"]["/s/{slug}/uploads/{id}"]["patch"];
    assert_eq!(request_upload["parameters"][0]["name"], "slug");
    assert_eq!(request_upload["security"], serde_json::json!([{}]), "visitors need no token");
    assert!(document["components"]["schemas"]["FileDto"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn the_reference_page_renders_the_document_without_scripts() {
    let app = spawn_app().await;
    let response = app.get("/api").await;
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let html = response.text().await.unwrap();
    for expected in
        ["/api/v1/files/{id}/content", "/s/{slug}/uploads/{id}", "id=\"schema-FileDto\""]
    {
        assert!(html.contains(expected), "{expected}");
    }
    assert!(!html.contains("<script"), "no script");
}
