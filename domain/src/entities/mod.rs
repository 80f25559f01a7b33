//! SeaORM entities, one file per table, in the shape `sea-orm-cli generate entity` writes.
//! Behaviour lives in the service modules beside them, never here.

pub mod api_tokens;
pub mod audit_events;
pub mod blob_deletions;
pub mod file_texts;
pub mod files;
pub mod folders;
pub mod invites;
pub mod jobs;
pub mod media;
pub mod password_resets;
pub mod sessions;
pub mod settings;
pub mod share_events;
pub mod share_files;
pub mod share_requests;
pub mod share_uploads;
pub mod shares;
pub mod upload_keys;
pub mod uploads;
pub mod users;
