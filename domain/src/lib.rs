//! Pannier's domain.
//!
//! Without features this crate holds the types the browser and the server share (DTOs and the
//! error type); it compiles to WASM. The `server` feature adds the services: configuration,
//! the database connection and entities, and the application state handed to every handler.

pub mod account;
pub mod admin;
pub mod error;
pub mod files;
pub mod ids;
pub mod jobs;
pub mod media;
pub mod search;
pub mod shares;
pub mod site;
pub mod uploads;

#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod breaker;
#[cfg(feature = "server")]
pub mod cache;
#[cfg(feature = "server")]
pub mod cluster;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod entities;
#[cfg(feature = "server")]
pub mod invites;
#[cfg(feature = "server")]
pub mod limits;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod settings;
#[cfg(feature = "server")]
pub mod setup;
#[cfg(feature = "server")]
pub mod state;
#[cfg(feature = "server")]
pub mod storage;
#[cfg(all(test, feature = "server"))]
mod testing;
#[cfg(feature = "server")]
pub mod tokens;
#[cfg(feature = "server")]
pub mod traffic;
#[cfg(feature = "server")]
pub mod users;

pub use error::AppError;
