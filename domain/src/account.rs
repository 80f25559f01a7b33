//! Accounts as the browser and the API see them: parsed inputs and the DTOs pages render.

use serde::{Deserialize, Serialize};

use crate::AppError;

/// A normalized (trimmed, lower-case) email address. Deserializing goes through [`Self::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain.tld`, at most 254 characters, no spaces or control characters.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let email = raw.trim().to_lowercase();
        let invalid = |message: &str| Err(AppError::invalid("email", message));
        if email.is_empty() {
            return invalid("Enter your email address.");
        }
        if email.chars().count() > 254 {
            return invalid("An email address is at most 254 characters.");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return invalid("An email address looks like name@example.com.");
        };
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@';
        if local.is_empty()
            || local.len() > 64
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || local.chars().any(bad_char)
            || domain.chars().any(bad_char)
        {
            return invalid("An email address looks like name@example.com.");
        }
        Ok(Self(email))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown to other people (on share pages too): 1–100 characters, no control or
/// invisible formatting characters. Deserializing goes through [`Self::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and checks a display name.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(AppError::invalid("display_name", "Enter a name to show to others."));
        }
        if name.chars().count() > 100 {
            return Err(AppError::invalid("display_name", "A name is at most 100 characters."));
        }
        if name.chars().any(|c| c.is_control() || crate::files::is_invisible(c)) {
            return Err(AppError::invalid(
                "display_name",
                "A name cannot contain control or invisible formatting characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The checked name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Both parsed text types read and write as plain strings, only through `parse`.
macro_rules! text_type {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = AppError;

            fn try_from(raw: String) -> Result<Self, AppError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

text_type!(EmailAddress);
text_type!(DisplayName);

/// What an account may do.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, invites and settings.
    Admin,
    /// Uses the instance.
    User,
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
        }
    }

    /// Parses the stored form; anything unknown is the least privileged role.
    pub fn parse(value: &str) -> Self {
        if value == "admin" { Self::Admin } else { Self::User }
    }
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// GET and HEAD only.
    Read,
    /// Everything the account may do.
    Write,
}

impl TokenScope {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// Parses `read` or `write` (also `read-write`).
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value.trim() {
            "read" => Ok(Self::Read),
            "write" | "read-write" => Ok(Self::Write),
            _ => Err(AppError::invalid("scope", "The scope is either read or write.")),
        }
    }
}

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// Anyone can sign up.
    Open,
    /// Only with an invite link from an admin.
    InviteOnly,
    /// Nobody; admins create accounts on the command line.
    Closed,
}

impl RegistrationMode {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InviteOnly => "invite_only",
            Self::Closed => "closed",
        }
    }

    /// Parses the stored form.
    pub fn parse(value: &str) -> Result<Self, AppError> {
        match value {
            "open" => Ok(Self::Open),
            "invite_only" => Ok(Self::InviteOnly),
            "closed" => Ok(Self::Closed),
            _ => Err(AppError::invalid("mode", "Choose open, invite only or closed.")),
        }
    }
}

/// The signed-in user.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    /// UUID.
    pub id: String,
    /// Normalized email.
    pub email: String,
    /// Shown to others.
    pub display_name: String,
    /// Admin or user.
    pub role: Role,
    /// RFC 3339.
    pub created_at: String,
    /// Whether a profile picture is set (`/api/v1/me/avatar`).
    pub has_avatar: bool,
}

/// One signed-in browser or device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDto {
    /// An opaque handle to revoke it by (not the session id).
    pub handle: String,
    /// Browser and system, from the user agent.
    pub device: String,
    /// The address it signed in from.
    pub ip: String,
    /// "YYYY-MM-DD HH:MM UTC".
    pub last_seen: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// An API token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDto {
    /// Its id (to revoke it).
    pub id: crate::ids::TokenId,
    /// The owner's label.
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    /// Read or write.
    pub scope: TokenScope,
    /// "YYYY-MM-DD HH:MM UTC".
    pub created: String,
    /// "YYYY-MM-DD HH:MM UTC", if ever used.
    pub last_used: Option<String>,
    /// "YYYY-MM-DD HH:MM UTC", if it expires.
    pub expires: Option<String>,
}

/// A token just created: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// The whole token, for `Authorization: Bearer …`.
    pub secret: String,
    /// Its listing.
    pub token: TokenDto,
}

/// An invite as listed to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteDto {
    /// UUID.
    pub id: String,
    /// "YYYY-MM-DD HH:MM UTC".
    pub expires: String,
    /// Whether someone signed up with it.
    pub used: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializing_cannot_go_around_parse() {
        assert!(serde_json::from_str::<EmailAddress>("\"not an email\"").is_err());
        let email: EmailAddress = serde_json::from_str("\" Ada@Example.com\"").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        for bad in ["\"\"", "\"Ada\\u202Egnp.exe\"", "\"a\\u0007b\""] {
            assert!(serde_json::from_str::<DisplayName>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(EmailAddress::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in
            ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@@x.io"]
        {
            let err = EmailAddress::parse(bad).unwrap_err();
            assert!(err.field_message("email").is_some(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("Ada\u{7}").is_err());
        assert_eq!(DisplayName::parse("Zoë 🚲").unwrap().as_str(), "Zoë 🚲");
    }

    #[test]
    fn scopes_and_modes_round_trip() {
        assert_eq!(TokenScope::parse("read").unwrap(), TokenScope::Read);
        assert_eq!(TokenScope::parse("read-write").unwrap(), TokenScope::Write);
        assert!(TokenScope::parse("admin").is_err());
        for mode in [RegistrationMode::Open, RegistrationMode::InviteOnly, RegistrationMode::Closed]
        {
            assert_eq!(RegistrationMode::parse(mode.as_str()).unwrap(), mode);
        }
        assert_eq!(Role::parse("root"), Role::User);
    }
}
