//! Security headers on every answer (a handler that set its own keeps it): no MIME sniffing,
//! no framing, a strict referrer policy, no powerful browser features, a browsing context of
//! our own (`Cross-Origin-Opener-Policy`), a Content-Security-Policy that allows nothing for
//! answers that are not pages, and HSTS when the public URL is https.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Whether the public URL is https (HSTS is sent only then).
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

const ALWAYS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("content-security-policy", DEFAULT_POLICY),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    ),
];

/// The policy of every answer that sets none: pages set their own (with the nonce of their
/// scripts: `app::shell`), file bytes a `sandbox`; anything else (JSON, the refusal pages,
/// static files) may load nothing and run no script.
const DEFAULT_POLICY: &str = "default-src 'none'; style-src-attr 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A year of HSTS (subdomains too: a Pannier host serves nothing else over plain http).
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Adds the headers a response does not set itself.
pub async fn security_headers(
    State(Https(https)): State<Https>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let hsts = https.then_some(("strict-transport-security", HSTS));
    for (name, value) in ALWAYS.into_iter().chain(hsts) {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
