//! Reusable pieces of UI.

pub mod dialog;
pub mod dropdown;
pub mod error;
pub mod form;
pub mod guard;
pub mod layout;
pub mod lightbox;
pub mod quick_search;
pub mod theme;
pub mod words;
