//! Account administration: the accounts of the instance with the storage each uses, and what
//! an admin changes about one (role, quota, turned off, deleted, a password reset link); the
//! audit log's pages; the instance's status.
//!
//! Without `server` this module holds what the admin's pages show.

use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::ids::UserId;

#[cfg(feature = "server")]
mod accounts;
#[cfg(feature = "server")]
mod instance;

#[cfg(feature = "server")]
pub(crate) use accounts::still_admin;
#[cfg(feature = "server")]
pub use accounts::{RESET_LINK_HOURS, delete, list, reset_link, set_disabled, set_quota, set_role};
#[cfg(feature = "server")]
pub use instance::status;

/// One account as the admin's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Its id (for the forms).
    pub id: UserId,
    /// The email it signs in with.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// Admin or user.
    pub role: Role,
    /// When it was made (RFC 3339).
    pub created: String,
    /// An admin turned it off: no sign-in, no session, no token, no link of it works.
    pub disabled: bool,
    /// Bytes its files take.
    pub used: u64,
    /// How many files it has.
    pub files: u64,
    /// Its quota in force; `None` is no limit.
    pub quota: Option<u64>,
    /// How the quota is set: `default` (the instance's), `unlimited`, or a size (`20 GiB`).
    pub quota_setting: String,
    /// Whether this is the admin looking (who cannot turn off, demote or delete themselves
    /// here).
    pub you: bool,
}

/// A page of the accounts, by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsPage {
    /// The accounts that match, by email.
    pub rows: Vec<AccountRow>,
    /// Where the next page starts (an email), if there is one.
    pub next: Option<String>,
    /// Every account of the instance (not only the matching ones).
    pub total_accounts: u64,
    /// Bytes every file of the instance takes.
    pub total_used: u64,
    /// Every file of the instance.
    pub total_files: u64,
    /// The quota of accounts with none of their own; `None` is no limit.
    pub default_quota: Option<u64>,
}

/// What the audit log records, as the filter lists it: each action and its words.
pub const AUDIT_ACTIONS: &[(&str, &str)] = &[
    ("sign_in", "Sign-in"),
    ("sign_out", "Sign-out"),
    ("sign_up", "Sign-up"),
    ("user_created", "Account made on the command line"),
    ("password_changed", "Password changed"),
    ("password_reset", "Password reset"),
    ("reset_link_created", "Reset link made"),
    ("token_created", "API token made"),
    ("token_revoked", "API token revoked"),
    ("session_revoked", "Session signed out"),
    ("account_deleted", "Account deleted"),
    ("account_disabled", "Account turned off"),
    ("account_enabled", "Account turned on"),
    ("role_changed", "Role changed"),
    ("quota_set", "Quota set"),
    ("invite_created", "Invite made"),
    ("registration_mode_changed", "Sign-up mode changed"),
];

/// The words for audit action `code` (the code itself if it has none).
pub fn audit_words(code: &str) -> &str {
    AUDIT_ACTIONS.iter().find(|(known, _)| *known == code).map_or(code, |(_, words)| words)
}

/// Which events of the audit log to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// One action (a code of [`AUDIT_ACTIONS`]), or all when empty.
    pub action: String,
    /// Part of the email of who acted, or of what they acted on; all when empty.
    pub who: String,
    /// Only what failed (wrong passwords, refused sign-ins).
    pub failed: bool,
    /// Where the page starts: older than this cursor (from [`AuditPage::next`]).
    pub before: Option<String>,
}

/// One event of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// When, `YYYY-MM-DDTHH:MM:SS` UTC.
    pub at: String,
    /// Its action's code.
    pub action: String,
    /// The email of who acted, if known (and the account still exists).
    pub actor: Option<String>,
    /// What it acted on.
    pub target: Option<String>,
    /// From which address.
    pub ip: Option<String>,
    /// With which browser or client.
    pub user_agent: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The events.
    pub rows: Vec<AuditRow>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// What the admin's status page shows of this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPanel {
    /// Pannier's version.
    pub version: String,
    /// Each dependency: the database, storage, and the read replica and Redis when configured.
    pub services: Vec<ServiceState>,
    /// Job workers this instance runs.
    pub workers: u64,
    /// Jobs by state (every instance's).
    pub jobs: crate::jobs::JobCounts,
    /// Browsers signed in now (every instance's).
    pub sessions: u64,
    /// This instance's last hour, a minute at a time, oldest first: requests and server
    /// errors.
    pub traffic: Vec<(u64, u64)>,
}

/// One dependency as the status page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    /// What it is: `Database (SQLite)`, `Storage (S3)`, …
    pub name: String,
    /// Whether it answers.
    pub ok: bool,
    /// What failed, when it did.
    pub error: Option<String>,
}
