//! The edge: every rule a request meets before the services, in one module tree.
//!
//! - [`serve`]: connections — header timeout (slowloris, idle keep-alive), a connection cap,
//!   bounded request heads (431).
//! - [`client`]: who the client is — the TCP peer, or what a trusted proxy says; forwarding
//!   headers and request ids from anyone else are dropped.
//! - [`limits`]: requests — load shedding (503 at once past `max_in_flight`), the deadline of
//!   non-streaming routes, rate-limit budgets (429 with `Retry-After` and `RateLimit` headers).
//! - [`headers`]: security headers on every answer.
//! - [`in_flight`]: counts of what is in progress per key (connections per address, uploads
//!   and zips per client).
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
