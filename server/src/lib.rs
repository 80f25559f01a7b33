//! The `pannier` server: command line, HTTP router, middleware and static assets.
//!
//! `main.rs` only parses the command line; everything else lives here so the integration tests
//! can start the very same application in-process (`startup::Application`).

pub mod api_v1;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod cli_accounts;
pub mod cli_jobs;
pub mod edge;
pub mod errors;
pub mod health;
pub mod html;
pub mod metrics;
pub mod shares;
pub mod snapshots;
pub mod startup;
pub mod telemetry;
