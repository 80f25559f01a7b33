//! Static files from the built site, served so a CDN can cache them.
//!
//! - `/pkg/*` is content-hashed by cargo-leptos (`hash-files = true`): cached for a year,
//!   `immutable`.
//! - Other files (favicon, robots.txt, …) get a short max-age and a content-based ETag, the same
//!   on every instance serving the same build, answered with 304 on `If-None-Match`.
//! - Brotli and gzip variants (`*.br`, `*.gz`, written by `cargo leptos build --precompress`)
//!   are served when the client accepts them.
//!
//! Anything that is not a file falls through to `fallback` (the app's 404 page).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::Service;
use tower_http::services::ServeDir;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const SHORT: HeaderValue = HeaderValue::from_static("public, max-age=300");
/// The site's hashed bundle directory, as a URL prefix.
const PKG_PREFIX: &str = "/pkg/";

/// ETags of the non-hashed files (everything outside `/pkg`), keyed by URL path, computed once
/// from their contents.
#[derive(Debug, Default)]
struct Etags(HashMap<String, String>);

impl Etags {
    fn scan(site_root: &Path) -> Self {
        let mut etags = HashMap::new();
        let mut stack = vec![site_root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    // The hashed bundle is cached as immutable and never needs an ETag.
                    if path != site_root.join(PKG_PREFIX.trim_matches('/')) {
                        stack.push(path);
                    }
                    continue;
                }
                let (Ok(relative), Ok(bytes)) =
                    (path.strip_prefix(site_root), std::fs::read(&path))
                else {
                    continue;
                };
                let url = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
                etags.insert(url, format!("{:016x}", fnv1a(&bytes)));
            }
        }
        Self(etags)
    }

    /// The ETag for `path` as served with `encoding` (each variant has its own bytes).
    fn get(&self, path: &str, encoding: Option<&str>) -> Option<HeaderValue> {
        let suffix = match encoding {
            Some("br") => ".br",
            Some("gzip") => ".gz",
            _ => "",
        };
        let hash = self.0.get(&format!("{path}{suffix}"))?;
        HeaderValue::from_str(&format!("\"{hash}\"")).ok()
    }
}

/// 64-bit FNV-1a: stable across builds and machines, enough to tell file versions apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A router serving `site_root`, handing every miss (and every non-GET) to `fallback`.
pub fn router<F>(site_root: &Path, fallback: F) -> Router
where
    F: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    F::Future: Send + 'static,
{
    let files = ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(fallback);
    let etags = Arc::new(Etags::scan(site_root));
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(etags, cache_headers))
}

/// Adds caching headers to file responses and answers `If-None-Match` with 304.
async fn cache_headers(State(etags): State<Arc<Etags>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    // Only files from ServeDir carry Last-Modified; the 404 page and errors pass untouched.
    let is_file = matches!(response.status().as_u16(), 200 | 206 | 304)
        && response.headers().contains_key(header::LAST_MODIFIED);
    if !is_file {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if path.starts_with(PKG_PREFIX) {
        headers.insert(header::CACHE_CONTROL, IMMUTABLE);
        return response;
    }
    headers.insert(header::CACHE_CONTROL, SHORT);
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let Some(etag) = etags.get(&path, encoding) else {
        return response;
    };
    if if_none_match.is_some_and(|value| etag_matches(&value, &etag)) {
        return not_modified(headers, etag);
    }
    headers.insert(header::ETAG, etag);
    response
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, as RFC 9110 asks).
fn etag_matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(value) = if_none_match.to_str() else { return false };
    let etag = etag.to_str().unwrap_or_default();
    value
        .split(',')
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == "*" || candidate == etag)
}

/// A 304 keeping the validators and caching headers of the full response.
fn not_modified(full: &HeaderMap, etag: HeaderValue) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    for name in [header::CACHE_CONTROL, header::LAST_MODIFIED, header::VARY] {
        if let Some(value) = full.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    headers.insert(header::ETAG, etag);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let etag = HeaderValue::from_static("\"abc\"");
        for matching in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"] {
            assert!(etag_matches(&HeaderValue::from_static(matching), &etag), "{matching}");
        }
        assert!(!etag_matches(&HeaderValue::from_static("\"abd\""), &etag));
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
