//! The `pannier` server: command line, HTTP router, middleware and static assets.
//!
//! `main.rs` only parses the command line; everything else lives here so the integration tests
//! can start the very same application in-process (`startup::Application`).

pub mod assets;
pub mod cli;
pub mod health;
pub mod startup;
pub mod telemetry;
