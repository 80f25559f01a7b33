//! One module per routed page.

pub mod account;
pub mod admin;
pub mod admin_accounts;
pub mod admin_audit;
pub mod admin_status;
pub mod file;
pub mod files;
pub mod home;
pub mod not_found;
pub mod requests;
pub mod reset_password;
pub mod search;
pub mod share;
pub mod shares;
pub mod sign_in;
