//! Pannier's domain.
//!
//! Without features this crate holds the types the browser and the server share (DTOs and the
//! error type); it compiles to WASM. The `server` feature adds the services: configuration,
//! the database connection and entities, and the application state handed to every handler.

pub mod error;
pub mod site;

#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod entities;
#[cfg(feature = "server")]
pub mod settings;
#[cfg(feature = "server")]
pub mod state;

pub use error::AppError;
