//! Reusable pieces of UI.

pub mod error;
pub mod layout;
pub mod theme;
