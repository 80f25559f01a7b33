//! The edge: every rule a request meets before the services, in one module tree.
//!
//! - [`serve`]: connections — header timeout (slowloris, idle keep-alive), a connection cap
//!   in all and per address, bounded request heads (431), the minimum send rate.
//! - [`client`]: who the client is — the TCP peer, or what a trusted proxy says; forwarding
//!   headers and request ids from anyone else are dropped.
//! - [`limits`]: requests — load shedding (503 at once past `max_in_flight`), the database's
//!   open breaker (503 at once), the deadline of non-streaming routes, the upload pace,
//!   uploads and zips in progress per client, rate-limit budgets (429 with `Retry-After` and
//!   `RateLimit` headers).
//! - [`unread`]: a body a route answered without reading is read out before the answer, so
//!   the client (a proxy) gets the answer instead of a reset connection.
//! - [`headers`]: security headers on every answer (a deny-all CSP for what is not a page).
//! - [`in_flight`]: counts of what is in progress per key.
//! - [`compression`]: brotli/gzip for pages and JSON documents.
//!
//! The breakers themselves are `domain::breaker` (the S3 one inside the S3 client); metrics
//! are `crate::metrics`; the OpenAPI document is `api_v1::openapi`.
//!
//! `startup::router` composes them, each scoped to the routers it applies to: health checks
//! skip shedding and budgets; upload routes take the uploads budget, download routes the
//! downloads budget; streaming routes have no deadline. Sign-in, sign-up and unlock budgets
//! are taken inside their domain services (before the password is checked).

pub mod client;
pub mod headers;
pub mod in_flight;
pub mod limits;
pub mod serve;
pub mod unread;

use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Compresses pages and JSON documents by the client's `Accept-Encoding` (brotli or gzip) at a
/// level that costs well under a millisecond for a large page (the slowest brotli levels take
/// tens). Only for the routers it is put on: file bytes are sent as stored (Range, sendfile
/// speed, and most media compresses no further), static assets are precompressed at build.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().br(true).gzip(true).quality(CompressionLevel::Precise(4))
}
