//! Account administration: the accounts of the instance with the storage each uses, and what
//! an admin changes about one (role, quota, turned off, deleted, a password reset link).
//!
//! Without `server` this module holds what the admin's accounts page shows.

use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::ids::UserId;

#[cfg(feature = "server")]
mod accounts;

#[cfg(feature = "server")]
pub(crate) use accounts::still_admin;
#[cfg(feature = "server")]
pub use accounts::{RESET_LINK_HOURS, delete, list, reset_link, set_disabled, set_quota, set_role};

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
    /// When it was made, "YYYY-MM-DD HH:MM UTC".
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
