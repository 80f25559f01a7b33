//! Integration tests: the real application on port 0 with a fresh data dir and database.
//! On SQLite by default; on PostgreSQL when `TEST_DATABASE_URL` is set (`make test` runs both).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first surprise"
)]

mod accounts;
mod admin_accounts;
mod assets;
mod bodies;
mod cli;
mod cluster;
mod consistency;
mod edge;
mod files;
mod folders;
mod health;
mod helpers;
mod ids;
mod jobs;
mod media;
mod metrics;
mod migrations;
mod openapi;
mod outages;
mod pages;
mod requests;
mod search;
mod search_text;
mod selection;
mod services;
mod sessions;
mod setup;
mod share_counting;
mod shares;
mod shutdown;
mod snapshots;
mod statements;
mod tokens;
mod trees;
mod uploads;
