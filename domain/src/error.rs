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
    /// One input field is wrong; the UI shows `message` under `field`.
    #[error("{message}")]
    Invalid {
        /// The form field or JSON key at fault.
        field: String,
        /// What is wrong and what would be right.
        message: String,
    },
    /// Not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist (or is not yours to see).
    #[error("{0}")]
    NotFound(String),
    /// It existed and is no longer available (an expired link, a used-up download limit).
    #[error("{0}")]
    Gone(String),
    /// The request clashes with what exists (e.g. an email already registered).
    #[error("{0}")]
    Conflict(String),
    /// A file is larger than the instance allows.
    #[error("{0}")]
    TooLarge(String),
    /// A request body (a JSON document, a form field) is larger than its route reads.
    #[error("{0}")]
    RequestTooLarge(String),
    /// The request head (target and header fields) is larger than the server reads.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// The upload would take the account past its storage quota.
    #[error("{0}")]
    QuotaExceeded(String),
    /// The bytes do not match the checksum sent with them (tus: 460); nothing was kept.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// The body is not in the format this endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts; try again after `retry_after_secs`.
    #[error("{message}")]
    TooManyRequests {
        /// What was throttled and when to retry.
        message: String,
        /// Seconds until a retry can succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// The server has more work than it takes at once (load shedding, a deadline, password
    /// checks queued); try again after `retry_after_secs`.
    #[error("{message}")]
    Overloaded {
        /// What is busy.
        message: String,
        /// Seconds to wait (the `Retry-After` header).
        retry_after_secs: u64,
    },
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
            Self::Invalid { .. } => "invalid_input",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Gone(_) => "gone",
            Self::TooLarge(_) => "file_too_large",
            Self::RequestTooLarge(_) => "request_too_large",
            Self::HeadersTooLarge(_) => "headers_too_large",
            Self::QuotaExceeded(_) => "quota_exceeded",
            Self::ChecksumMismatch(_) => "checksum_mismatch",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Overloaded { .. } => "overloaded",
            Self::Unavailable(_) => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// An `Invalid` error for `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.to_owned(), message: message.into() }
    }

    /// The message for `field` if this error is about that field.
    pub fn field_message(&self, name: &str) -> Option<String> {
        match self {
            Self::Invalid { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status this error maps to (the single place that decides it).
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Invalid { .. } => 422,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Gone(_) => 410,
            Self::TooLarge(_) | Self::RequestTooLarge(_) | Self::QuotaExceeded(_) => 413,
            Self::HeadersTooLarge(_) => 431,
            Self::ChecksumMismatch(_) => 460,
            Self::UnsupportedMediaType(_) => 415,
            Self::TooManyRequests { .. } => 429,
            Self::Overloaded { .. } => 503,
            Self::Unavailable(_) => 503,
            Self::Internal => 500,
        }
    }
}

/// The JSON body of every REST error and edge refusal.
#[cfg(feature = "server")]
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for people (`message`) and programs (`code`).
#[cfg(feature = "server")]
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `bad_request`, `invalid_input`, `unauthorized`,
    /// `forbidden`, `not_found`, `conflict`, `gone`, `file_too_large`, `request_too_large`,
    /// `headers_too_large`, `quota_exceeded`, `checksum_mismatch`, `unsupported_media_type`,
    /// `rate_limited`, `overloaded`, `unavailable`, `internal`.
    pub code: String,
    /// What happened and what to do next.
    pub message: String,
    /// The form or JSON field at fault (`invalid_input`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before retrying (`rate_limited`, `overloaded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[cfg(feature = "server")]
impl AppError {
    /// The REST body: `{"error": {"code": …, "message": …}}` plus `field` / `retry_after`.
    pub fn to_json(&self) -> serde_json::Value {
        let (field, retry_after) = match self {
            Self::Invalid { field, .. } => (Some(field.clone()), None),
            Self::TooManyRequests { retry_after_secs, .. }
            | Self::Overloaded { retry_after_secs, .. } => (None, Some(*retry_after_secs)),
            _ => (None, None),
        };
        let detail = ErrorDetail {
            code: self.code().to_owned(),
            message: self.to_string(),
            field,
            retry_after,
        };
        serde_json::to_value(ErrorBody { error: detail }).unwrap_or_default()
    }

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
    /// A database that cannot be reached (no connection within the pool's timeout, a connection
    /// lost mid-query) is 503 `unavailable` — the client may retry — not a 500.
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, RuntimeErr, sqlx};
        let unreachable = match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            DbErr::Exec(RuntimeErr::SqlxError(inner))
            | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
                matches!(
                    **inner,
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                )
            }
            _ => false,
        };
        if unreachable {
            tracing::warn!(error = %err, "the database is unavailable");
            return crate::breaker::unavailable("the database");
        }
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
