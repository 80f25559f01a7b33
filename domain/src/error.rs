//! The one error type crossing the wire, shared by server functions, REST handlers and the UI.
//!
//! Internal failures are logged on the server with their cause chain; the client only ever sees
//! a generic message, never SQL text or a path.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// An error a person can act on, or `Internal` for everything they cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "message", rename_all = "snake_case")]
pub enum AppError {
    /// The request itself is wrong; the message says what to change.
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist (or is not yours to see).
    #[error("{0}")]
    NotFound(String),
    /// A dependency (database, storage) cannot be reached right now.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed on the server; details are in the server log only.
    #[error("something went wrong on our side; please try again in a moment")]
    Internal,
}

impl AppError {
    /// A stable machine-readable code, as used in `{"error": {"code": …}}`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::Unavailable(_) => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status this error maps to (the single place that decides it).
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::NotFound(_) => 404,
            Self::Unavailable(_) => 503,
            Self::Internal => 500,
        }
    }
}

#[cfg(feature = "server")]
impl AppError {
    /// Logs `err` with its whole cause chain under `context` and returns the generic error.
    pub fn internal(context: &str, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %chain, "{context}");
        Self::Internal
    }
}

#[cfg(feature = "server")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal("database error", &err)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                Self::BadRequest(msg)
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                Self::Unavailable("could not reach the server; check your connection".into())
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let json =
            serde_json::to_string(&AppError::NotFound("no such folder".into())).unwrap_or_default();
        assert_eq!(json, r#"{"code":"not_found","message":"no such folder"}"#);
    }

    #[test]
    fn internal_never_carries_details() {
        assert_eq!(AppError::Internal.status(), 500);
        assert!(!AppError::Internal.to_string().contains("sql"));
    }
}
