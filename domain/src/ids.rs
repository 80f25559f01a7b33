//! Typed identifiers, parsed once where a request enters (a path segment, a query, a form
//! field, a JSON body) so that no service takes an id as a string or parses one itself.
//!
//! Each is a UUID underneath and serializes as its hyphenated text; anything else fails to
//! deserialize, so `Path<FileId>` or a server fn argument turns a bad id into a 400 before any
//! service runs. [`FolderRef`] names a folder or the owner's root without `None`/`""`/`"root"`
//! conventions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::AppError;

/// Declares a UUID-backed id type that names what it identifies in its parse error.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                from_text(deserializer)
            }
        }

        impl $name {
            /// What the id names, for error messages.
            pub const WHAT: &'static str = $what;

            /// A new random id.
            #[cfg(feature = "server")]
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// The UUID underneath (for database columns).
            pub fn uuid(self) -> Uuid {
                self.0
            }

            /// Parses a comma-separated list (a form's hidden field), skipping empty items.
            pub fn parse_list(list: &str) -> Result<Vec<Self>, AppError> {
                list.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::parse).collect()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = AppError;

            fn from_str(raw: &str) -> Result<Self, AppError> {
                Uuid::try_parse(raw).map(Self).map_err(|_| invalid($what, raw))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A file.
    FileId,
    "file"
);
id_type!(
    /// A folder.
    FolderId,
    "folder"
);
id_type!(
    /// A share link or file request.
    ShareId,
    "link"
);
id_type!(
    /// A resumable (tus or direct-to-S3) upload.
    UploadId,
    "upload"
);
id_type!(
    /// An API token.
    TokenId,
    "token"
);
id_type!(
    /// A job of the queue.
    JobId,
    "job"
);
id_type!(
    /// An account.
    UserId,
    "account"
);

/// The 400 for text that is not an id; quotes at most the start of what was sent.
fn invalid(what: &str, raw: &str) -> AppError {
    let shown: String = raw.chars().filter(|c| !c.is_control()).take(40).collect();
    AppError::BadRequest(format!("“{shown}” is not a valid {what} id."))
}

/// A folder, or the owner's root folder (which has a row and an id, but callers name it as
/// `root` without knowing it). Text form: `root` or a folder id; `""` also means the root, as
/// an empty form field or picker value does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FolderRef {
    /// The owner's root folder.
    #[default]
    Root,
    /// A folder by id.
    Id(FolderId),
}

impl FolderRef {
    /// The id, unless this is the root.
    pub fn id(self) -> Option<FolderId> {
        match self {
            Self::Root => None,
            Self::Id(id) => Some(id),
        }
    }
}

impl From<FolderId> for FolderRef {
    fn from(id: FolderId) -> Self {
        Self::Id(id)
    }
}

impl From<Option<FolderId>> for FolderRef {
    fn from(id: Option<FolderId>) -> Self {
        id.map_or(Self::Root, Self::Id)
    }
}

impl FromStr for FolderRef {
    type Err = AppError;

    fn from_str(raw: &str) -> Result<Self, AppError> {
        match raw {
            "" | "root" => Ok(Self::Root),
            id => id.parse().map(Self::Id),
        }
    }
}

impl fmt::Display for FolderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("root"),
            Self::Id(id) => id.fmt(f),
        }
    }
}

impl Serialize for FolderRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FolderRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        from_text(deserializer)
    }
}

/// Reads an id from its text, failing with [`FromStr`]'s message (which names what it is).
fn from_text<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = AppError>,
{
    let raw = std::borrow::Cow::<str>::deserialize(deserializer)?;
    raw.parse().map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_uuids_only_and_say_what_they_are() {
        let id: FileId = "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap();
        assert_eq!(id.to_string(), "67e55044-10b1-426f-9247-bb680e5fe0c8");
        for bad in ["", "root", "18446744073709551615", "67e55044-10b1-426f-9247-bb680e5fe0c8x"] {
            let err = bad.parse::<FileId>().unwrap_err();
            assert!(matches!(err, AppError::BadRequest(ref m) if m.contains("file id")), "{bad}");
        }
        let json: Result<FolderId, _> = serde_json::from_str("\"../etc\"");
        assert!(json.is_err());
    }

    #[test]
    fn folder_refs_name_the_root_three_ways_and_a_folder_by_id() {
        for root in ["\"\"", "\"root\""] {
            assert_eq!(serde_json::from_str::<FolderRef>(root).unwrap(), FolderRef::Root);
        }
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let folder: FolderRef = serde_json::from_str(&format!("\"{id}\"")).unwrap();
        assert_eq!(folder.to_string(), id);
        assert_eq!(serde_json::to_string(&FolderRef::Root).unwrap(), "\"root\"");
        assert!(serde_json::from_str::<FolderRef>("\"Root\"").is_err());
    }

    #[test]
    fn lists_skip_blanks_and_reject_any_bad_item() {
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        assert_eq!(FileId::parse_list(&format!(" {id},,")).unwrap().len(), 1);
        assert!(FileId::parse_list(&format!("{id},nope")).is_err());
    }
}
