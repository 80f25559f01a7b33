//! The owner's share forms as the browser sends them — the link form, the file request form
//! and the edit form, every field as typed — and the one place they become a [`NewShare`] or
//! [`ShareChanges`]. The server fns take a [`ShareForm`] and call one method.

use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
use {
    super::{NewShare, RequestRules, ShareChanges},
    crate::AppError,
    crate::ids::{FileId, FolderRef},
    chrono::{DateTime, Utc},
};

/// The fields of the share forms (each form sends the ones it has). Empty means unset.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShareForm {
    /// A selection: comma-separated file ids.
    pub file_ids: String,
    /// A folder (`root` or an id).
    pub folder_id: String,
    /// The owner's name for the link.
    pub label: String,
    /// `never`, `1h`, `1d`, `7d`, `30d`, `date` (with `expires_on`), or `keep` when editing.
    pub expires: String,
    /// `YYYY-MM-DD` for `expires=date`.
    pub expires_on: Option<String>,
    /// A new password (empty: none, or unchanged when editing).
    pub password: String,
    /// Present when the edit form's "remove password" is ticked.
    pub remove_password: Option<String>,
    /// Downloads allowed (a whole number); the edit form of a file request leaves it out.
    pub max_downloads: Option<String>,
    /// Present when "offer a zip" is ticked.
    pub allow_zip: Option<String>,
    /// A file request's largest file (`25 MB`).
    pub max_file_size: Option<String>,
    /// A file request's bytes in all.
    pub max_total_bytes: Option<String>,
    /// A file request's files in all.
    pub max_files: Option<String>,
    /// A file request's types, comma- or space-separated (`.pdf, image/*`).
    pub allowed_types: Option<String>,
}

impl std::fmt::Debug for ShareForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareForm")
            .field("file_ids", &self.file_ids)
            .field("folder_id", &self.folder_id)
            .field("expires", &self.expires)
            .field("password", &(!self.password.is_empty()).then_some("…"))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "server")]
impl ShareForm {
    /// A link to a selection (`file_ids`) or a folder (`folder_id`).
    pub fn new_link(self) -> Result<NewShare, AppError> {
        Ok(NewShare {
            file_ids: FileId::parse_list(&self.file_ids)?,
            folder_id: self.folder()?,
            max_downloads: count(self.max_downloads.as_deref(), "max_downloads")?,
            allow_zip: self.allow_zip.is_some(),
            ..self.common()?
        })
    }

    /// A file request into `folder_id`.
    pub fn new_request(self) -> Result<NewShare, AppError> {
        Ok(NewShare {
            folder_id: Some(self.folder()?.unwrap_or_default()),
            request: Some(self.rules()?),
            ..self.common()?
        })
    }

    /// The edit form's changes: a link's form sends `max_downloads`, a file request's its
    /// rules; `expires=keep` and an empty password keep what is set.
    pub fn changes(self) -> Result<ShareChanges, AppError> {
        let password = match (self.remove_password.is_some(), self.password.is_empty()) {
            (true, _) => Some(None),
            (false, false) => Some(Some(self.password.clone().into())),
            (false, true) => None,
        };
        let expires_at = (self.expires != "keep").then(|| self.expiry()).transpose()?;
        let changes = ShareChanges {
            label: Some(Some(self.label.clone())),
            expires_at,
            password,
            ..ShareChanges::default()
        };
        Ok(match &self.max_downloads {
            Some(max) => ShareChanges {
                max_downloads: Some(count(Some(max), "max_downloads")?),
                allow_zip: Some(self.allow_zip.is_some()),
                ..changes
            },
            None => ShareChanges { request: Some(self.rules()?), ..changes },
        })
    }

    /// What both new forms share: label, expiry, password.
    fn common(&self) -> Result<NewShare, AppError> {
        Ok(NewShare {
            label: Some(self.label.clone()),
            expires_at: self.expiry()?,
            password: Some(self.password.clone()).filter(|p| !p.is_empty()).map(Into::into),
            ..NewShare::default()
        })
    }

    fn folder(&self) -> Result<Option<FolderRef>, AppError> {
        let folder = self.folder_id.trim();
        if folder.is_empty() { Ok(None) } else { folder.parse().map(Some) }
    }

    /// The expiry chosen: `never`, `1h`, `1d`, `7d`, `30d`, or `date` with `expires_on`
    /// (`YYYY-MM-DD`, the end of that day in UTC).
    fn expiry(&self) -> Result<Option<DateTime<Utc>>, AppError> {
        let hours = match self.expires.as_str() {
            "" | "never" => return Ok(None),
            "1h" => 1,
            "1d" => 24,
            "7d" => 7 * 24,
            "30d" => 30 * 24,
            "date" => {
                let day = self
                    .expires_on
                    .as_deref()
                    .and_then(|day| chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok())
                    .and_then(|day| day.and_hms_opt(23, 59, 59))
                    .ok_or_else(|| {
                        AppError::invalid("expires_on", "Choose a date, e.g. 2026-12-31.")
                    })?;
                return Ok(Some(day.and_utc()));
            }
            _ => return Err(AppError::invalid("expires", "Choose when the link stops working.")),
        };
        Ok(Some(Utc::now() + chrono::TimeDelta::hours(hours)))
    }

    /// A file request's rules.
    fn rules(&self) -> Result<RequestRules, AppError> {
        Ok(RequestRules {
            max_file_size: size(self.max_file_size.as_deref(), "max_file_size")?,
            max_total_bytes: size(self.max_total_bytes.as_deref(), "max_total_bytes")?,
            max_files: count(self.max_files.as_deref(), "max_files")?,
            allowed_types: self
                .allowed_types
                .as_deref()
                .unwrap_or_default()
                .split([',', ' '])
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// An optional count (downloads, files).
#[cfg(feature = "server")]
fn count(value: Option<&str>, field: &str) -> Result<Option<u64>, AppError> {
    let value = value.unwrap_or_default().trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| AppError::invalid(field, "Type a whole number, or leave it empty."))
}

/// An optional size (`25 MB`, `2 GB`).
#[cfg(feature = "server")]
fn size(value: Option<&str>, field: &str) -> Result<Option<u64>, AppError> {
    let value = value.unwrap_or_default().trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse::<crate::config::ByteSize>()
        .map(|size| Some(size.bytes()))
        .map_err(|_| AppError::invalid(field, "Type a size like 25 MB or 2 GB, or leave it empty."))
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    #[expect(clippy::unwrap_used, reason = "a test helper fails loudly")]
    fn form(fields: &[(&str, &str)]) -> ShareForm {
        let map: serde_json::Map<String, serde_json::Value> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect();
        serde_json::from_value(serde_json::Value::Object(map)).unwrap()
    }

    #[test]
    fn a_link_form_names_files_or_a_folder_and_rejects_what_does_not_parse() {
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let link = form(&[("file_ids", &format!("{id},")), ("max_downloads", "3")]).new_link();
        let link = link.unwrap();
        assert_eq!((link.file_ids.len(), link.folder_id, link.max_downloads), (1, None, Some(3)));
        let folder = form(&[("folder_id", "root"), ("expires", "1d")]).new_link().unwrap();
        assert_eq!(folder.folder_id, Some(FolderRef::Root));
        assert!(folder.expires_at.is_some());
        for bad in [
            form(&[("file_ids", "nope")]),
            form(&[("folder_id", "../x")]),
            form(&[("max_downloads", "18446744073709551616")]),
            form(&[("expires", "date"), ("expires_on", "tomorrow")]),
            form(&[("expires", "forever")]),
        ] {
            assert!(matches!(
                bad.new_link(),
                Err(AppError::BadRequest(_) | AppError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn a_request_form_makes_rules_and_an_edit_keeps_what_it_does_not_name() {
        let request = form(&[("max_file_size", "25 MB"), ("allowed_types", ".pdf, image/*")]);
        let rules = request.new_request().unwrap().request.unwrap();
        assert_eq!(rules.max_file_size, Some(25 << 20));
        assert!(form(&[("max_files", "many")]).new_request().is_err());
        let edit = form(&[("expires", "keep"), ("max_downloads", "")]).changes().unwrap();
        assert!(edit.expires_at.is_none() && edit.password.is_none());
        assert_eq!((edit.max_downloads, edit.allow_zip), (Some(None), Some(false)));
        let removed = form(&[("remove_password", "on"), ("password", "x")]).changes().unwrap();
        assert!(matches!(removed.password, Some(None)));
    }
}
