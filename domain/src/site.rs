//! What the public pages show about this instance.

use serde::{Deserialize, Serialize};

/// The instance's name and welcome text, read from the `settings` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Shown in the header and the page title.
    pub name: String,
    /// One sentence under the name on the home page.
    pub tagline: String,
    /// Anyone may sign up: the header offers "Sign up" (and, on a link's page, "Sign in").
    pub open_registration: bool,
}
