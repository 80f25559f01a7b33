//! How a client pages through a folder: one bounded [`ListQuery`] that the REST handlers and
//! the server fns both deserialize, so a sort key, a cursor or a page size that does not fit
//! is a 400 at the edge and never reaches SQL.

use serde::{Deserialize, Deserializer, Serialize};

use crate::AppError;

/// The largest page a client may ask for.
pub const MAX_PAGE: u16 = 500;

/// Listing order.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    /// Case-insensitive name.
    #[default]
    Name,
    /// File size (folders by name).
    Size,
    /// Creation time.
    Date,
}

impl SortKey {
    /// Parses `name` / `size` / `date`; anything else is the default.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "size" => Self::Size,
            "date" => Self::Date,
            _ => Self::Name,
        }
    }

    /// The query-string form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Size => "size",
            Self::Date => "date",
        }
    }
}

/// Sort direction.
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest, oldest or A first.
    #[default]
    Asc,
    /// Largest, newest or Z first.
    Desc,
}

/// A page size from 1 to [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u16")]
pub struct PageSize(u16);

impl PageSize {
    /// The size a page has when the client does not say.
    pub const DEFAULT: Self = Self(100);

    /// The number of rows.
    pub fn get(self) -> u64 {
        u64::from(self.0)
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u64> for PageSize {
    type Error = AppError;

    fn try_from(size: u64) -> Result<Self, AppError> {
        u16::try_from(size)
            .ok()
            .filter(|size| (1..=MAX_PAGE).contains(size))
            .map(Self)
            .ok_or_else(|| AppError::BadRequest(format!("`limit` must be from 1 to {MAX_PAGE}.")))
    }
}

impl From<PageSize> for u16 {
    fn from(size: PageSize) -> Self {
        size.0
    }
}

/// `?sort=name|size|date&order=asc|desc&cursor=&limit=`: every field optional and bounded.
/// `cursor` is the previous page's `next_cursor` (an offset below 2³²; empty: the first page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ListQuery {
    /// What to order by.
    #[cfg_attr(feature = "server", param(inline))]
    pub sort: SortKey,
    /// Which way.
    #[cfg_attr(feature = "server", param(inline))]
    pub order: SortOrder,
    /// Where the previous page ended (its `next_cursor`).
    #[serde(deserialize_with = "cursor", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", param(value_type = Option<u32>))]
    pub cursor: Option<u32>,
    /// Rows per page, 1 to 500 (default 100).
    #[cfg_attr(feature = "server", param(value_type = Option<u16>, minimum = 1, maximum = 500))]
    pub limit: PageSize,
}

impl ListQuery {
    /// Whether the order is descending.
    pub fn descending(&self) -> bool {
        self.order == SortOrder::Desc
    }
}

/// An empty cursor is the first page; anything else must be a number that fits.
fn cursor<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let raw = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("That page cursor is not valid.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ListQuery, serde_json::Error> {
        // The query-string decoders hand every value over as text, as JSON strings do here.
        let pairs: serde_json::Map<String, serde_json::Value> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let value = match key {
                    "limit" => value.parse::<u64>().map_or_else(
                        |_| serde_json::Value::String(value.into()),
                        serde_json::Value::from,
                    ),
                    _ => serde_json::Value::String(value.into()),
                };
                (key.to_owned(), value)
            })
            .collect();
        serde_json::from_value(serde_json::Value::Object(pairs))
    }

    #[test]
    fn queries_default_and_bound_every_field() {
        assert_eq!(parse("").unwrap(), ListQuery::default());
        let query = parse("sort=size&order=desc&cursor=200&limit=50").unwrap();
        assert_eq!(
            (query.sort, query.descending(), query.cursor),
            (SortKey::Size, true, Some(200))
        );
        assert_eq!(query.limit.get(), 50);
        assert_eq!(parse("cursor=").unwrap().cursor, None);
        for bad in [
            "cursor=18446744073709551615",
            "cursor=-1",
            "limit=0",
            "limit=501",
            "limit=18446744073709551615",
            "sort=owner",
            "order=up",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
