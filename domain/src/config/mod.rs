//! Typed, layered configuration: defaults → optional TOML file → `PANNIER_…` environment.
//!
//! Every key is listed once, in [`KEYS`]; `pannier serve --help` and the README print it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

mod csp;
mod keys;
mod size;

pub use keys::{ConfigKey, KEYS};
pub use size::ByteSize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Where file bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Files under `<data_dir>/blobs` (the embedded default).
    #[default]
    Local,
    /// An S3-compatible bucket.
    S3,
}

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// The embedded default.
    Sqlite,
    /// The scale-out engine.
    Postgres,
}

/// Pannier's configuration, as loaded. Secrets are redacted in `Debug`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// See [`KEYS`].
    pub bind: SocketAddr,
    /// See [`KEYS`]; use [`Config::public_url`] to read it.
    pub public_url: Option<String>,
    /// See [`KEYS`].
    pub data_dir: PathBuf,
    /// See [`KEYS`]; use [`Config::database_url`] to read it.
    pub database_url: Option<SecretString>,
    /// See [`KEYS`].
    pub database_read_url: Option<SecretString>,
    /// See [`KEYS`].
    pub replica_max_lag_secs: u64,
    /// See [`KEYS`].
    pub redis_url: Option<SecretString>,
    /// See [`KEYS`].
    pub log_format: LogFormat,
    /// See [`KEYS`].
    pub log_level: String,
    /// See [`KEYS`].
    pub site_root: PathBuf,
    /// See [`KEYS`]; empty means same origin.
    pub assets_base_url: String,
    /// See [`KEYS`].
    pub session_idle_minutes: u32,
    /// See [`KEYS`].
    pub session_remember_days: u32,
    /// See [`KEYS`].
    pub session_absolute_days: u32,
    /// See [`KEYS`].
    pub shutdown_timeout_secs: u64,
    /// See [`KEYS`].
    pub drain_delay_secs: u64,
    /// See [`KEYS`].
    pub storage: StorageKind,
    /// See [`KEYS`].
    pub s3_endpoint: Option<String>,
    /// See [`KEYS`].
    pub s3_bucket: Option<String>,
    /// See [`KEYS`].
    pub s3_region: String,
    /// See [`KEYS`].
    pub s3_access_key: Option<String>,
    /// See [`KEYS`].
    pub s3_secret_key: Option<SecretString>,
    /// See [`KEYS`].
    pub s3_path_style: bool,
    /// See [`KEYS`].
    pub s3_sse: Option<String>,
    /// See [`KEYS`].
    pub s3_part_size: ByteSize,
    /// See [`KEYS`].
    pub s3_upload_concurrency: usize,
    /// See [`KEYS`].
    pub s3_presigned_downloads: bool,
    /// See [`KEYS`].
    pub s3_direct_uploads: bool,
    /// See [`KEYS`]; `0` means no limit.
    pub max_file_size: ByteSize,
    /// See [`KEYS`].
    pub upload_expiry_hours: u32,
    /// See [`KEYS`]; `0` means unlimited.
    pub default_quota: ByteSize,
    /// See [`KEYS`].
    pub user_content_url: Option<String>,
    /// See [`KEYS`].
    pub share_log_days: u32,
    /// See [`KEYS`].
    pub max_zip_files: u64,
    /// See [`KEYS`].
    pub max_upload_parts: usize,
    /// See [`KEYS`].
    pub max_document_size: ByteSize,
    /// See [`KEYS`].
    pub max_uploads_at_once: usize,
    /// See [`KEYS`].
    pub max_zips_at_once: usize,
    /// See [`KEYS`].
    pub workers: usize,
    /// See [`KEYS`].
    pub header_timeout_secs: u64,
    /// See [`KEYS`].
    pub request_timeout_secs: u64,
    /// See [`KEYS`].
    pub database_timeout_secs: u64,
    /// See [`KEYS`].
    pub send_timeout_secs: u64,
    /// See [`KEYS`].
    pub min_transfer_rate: u64,
    /// See [`KEYS`].
    pub max_connections: usize,
    /// See [`KEYS`].
    pub max_connections_per_address: usize,
    /// See [`KEYS`].
    pub max_in_flight: usize,
    /// See [`KEYS`].
    pub upload_idle_timeout_secs: u64,
    /// See [`KEYS`].
    pub max_header_bytes: usize,
    /// See [`KEYS`].
    pub max_headers: usize,
    /// See [`KEYS`].
    pub password_hashing_concurrency: usize,
    /// See [`KEYS`].
    pub trusted_proxies: String,
    /// See [`KEYS`].
    pub metrics_bind: String,
    /// See [`KEYS`].
    pub metrics_token: Option<SecretString>,
    /// See [`KEYS`].
    pub rate_requests: u32,
    /// See [`KEYS`].
    pub rate_uploads: u32,
    /// See [`KEYS`].
    pub rate_downloads: u32,
    /// See [`KEYS`].
    pub rate_sign_ins: u32,
    /// See [`KEYS`].
    pub rate_sign_ups: u32,
    /// See [`KEYS`].
    pub rate_unlocks: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_read_url: None,
            replica_max_lag_secs: 5,
            redis_url: None,
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            site_root: PathBuf::from("target/site"),
            assets_base_url: String::new(),
            session_idle_minutes: 720,
            session_remember_days: 30,
            session_absolute_days: 30,
            share_log_days: 90,
            max_zip_files: 50_000,
            max_upload_parts: 1000,
            max_document_size: ByteSize(256 << 10),
            max_uploads_at_once: 16,
            max_zips_at_once: 2,
            workers: 1,
            shutdown_timeout_secs: 30,
            drain_delay_secs: 0,
            storage: StorageKind::Local,
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: "us-east-1".into(),
            s3_access_key: None,
            s3_secret_key: None,
            s3_path_style: false,
            s3_sse: None,
            s3_part_size: ByteSize(16 << 20),
            s3_upload_concurrency: 4,
            s3_presigned_downloads: false,
            s3_direct_uploads: false,
            max_file_size: ByteSize(10 << 30),
            upload_expiry_hours: 24,
            default_quota: ByteSize(0),
            user_content_url: None,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            database_timeout_secs: 5,
            send_timeout_secs: 60,
            min_transfer_rate: 1024,
            max_connections: 4096,
            max_connections_per_address: 64,
            max_in_flight: 256,
            upload_idle_timeout_secs: 60,
            max_header_bytes: 16384,
            max_headers: 64,
            password_hashing_concurrency: 2,
            trusted_proxies: String::new(),
            metrics_bind: "127.0.0.1:9464".into(),
            metrics_token: None,
            rate_requests: 1200,
            rate_uploads: 600,
            rate_downloads: 1200,
            rate_sign_ins: 10,
            rate_sign_ups: 10,
            rate_unlocks: 5,
        }
    }
}

/// Why the configuration could not be loaded; the message names the key to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML file or an environment value could not be read or parsed.
    #[error("invalid configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A value parsed but makes no sense.
    #[error("invalid configuration: {key}: {message}")]
    Invalid {
        /// The environment name of the offending key.
        key: &'static str,
        /// What is wrong and what is expected.
        message: String,
    },
}

impl Config {
    /// Loads defaults, then `file` (which must exist when given), then `PANNIER_…` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Invalid {
                    key: "--config",
                    message: format!("no such file: {}", file.display()),
                });
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let names: Vec<&str> = KEYS.iter().map(|k| k.toml).collect();
        figment = figment.merge(Env::prefixed("PANNIER_").only(&names));
        Self::from_figment(&figment)
    }

    /// Extracts and checks a configuration from any figment (tests build their own).
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let mut config: Self = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url {
            self.public_url = Some(normalize_http_url(url, "PANNIER_PUBLIC_URL")?);
        }
        if !self.assets_base_url.is_empty() {
            self.assets_base_url =
                normalize_http_url(&self.assets_base_url, "PANNIER_ASSETS_BASE_URL")?;
        }
        if let Some(url) = &self.database_url {
            database_kind(url.expose_secret())?;
        }
        self.database_read_url =
            self.database_read_url.take().filter(|url| !url.expose_secret().is_empty());
        if let Some(url) = &self.database_read_url
            && (database_kind(url.expose_secret())? != DatabaseKind::Postgres
                || self.database_kind() != DatabaseKind::Postgres)
        {
            return Err(ConfigError::Invalid {
                key: "PANNIER_DATABASE_READ_URL",
                message: "a read replica needs PostgreSQL for both URLs".into(),
            });
        }
        self.redis_url = self.redis_url.take().filter(|url| !url.expose_secret().is_empty());
        if let Some(url) = &self.redis_url {
            let url = url.expose_secret();
            let scheme = url.starts_with("redis://") || url.starts_with("unix://");
            if !scheme || redis::Client::open(url).is_err() {
                return Err(ConfigError::Invalid {
                    key: "PANNIER_REDIS_URL",
                    message: "expected redis://[:PASSWORD@]HOST:PORT[/DB] or unix://PATH".into(),
                });
            }
        }
        if self.session_idle_minutes == 0
            || self.session_remember_days == 0
            || self.session_absolute_days == 0
        {
            return Err(ConfigError::Invalid {
                key: "PANNIER_SESSION_*",
                message: "session lifetimes must be at least 1".into(),
            });
        }
        if self.share_log_days == 0 {
            return Err(ConfigError::Invalid {
                key: "PANNIER_SHARE_LOG_DAYS",
                message: "must be at least 1 day".into(),
            });
        }
        if self.shutdown_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "PANNIER_SHUTDOWN_TIMEOUT_SECS",
                message: "must be at least 1 second".into(),
            });
        }
        if self.upload_expiry_hours == 0 {
            return Err(ConfigError::Invalid {
                key: "PANNIER_UPLOAD_EXPIRY_HOURS",
                message: "must be at least 1 hour".into(),
            });
        }
        if let Some(url) = &self.user_content_url {
            self.user_content_url = Some(normalize_http_url(url, "PANNIER_USER_CONTENT_URL")?);
        }
        if self.metrics_token.as_ref().is_some_and(|token| token.expose_secret().is_empty()) {
            self.metrics_token = None;
        }
        self.metrics_address()?;
        if !(1 << 10..=64 << 20).contains(&self.max_document_size.bytes()) {
            return Err(ConfigError::Invalid {
                key: "PANNIER_MAX_DOCUMENT_SIZE",
                message: "must be between 1KiB and 64MiB".into(),
            });
        }
        self.validate_storage()
    }

    /// Where `/metrics` is served, `None` when `metrics_bind` is empty.
    pub fn metrics_address(&self) -> Result<Option<std::net::SocketAddr>, ConfigError> {
        let bind = self.metrics_bind.trim();
        if bind.is_empty() {
            return Ok(None);
        }
        bind.parse().map(Some).map_err(|_| ConfigError::Invalid {
            key: "PANNIER_METRICS_BIND",
            message: format!("“{bind}” is not an address and port such as 127.0.0.1:9464"),
        })
    }

    fn validate_storage(&mut self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid { key, message: message.into() };
        if let Some(url) = &self.s3_endpoint {
            self.s3_endpoint = Some(normalize_http_url(url, "PANNIER_S3_ENDPOINT")?);
        }
        if self.storage == StorageKind::S3 && self.s3_bucket.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("PANNIER_S3_BUCKET", "required when PANNIER_STORAGE is s3"));
        }
        if self.s3_access_key.is_some() != self.s3_secret_key.is_some() {
            return Err(invalid(
                "PANNIER_S3_SECRET_KEY",
                "set both PANNIER_S3_ACCESS_KEY and PANNIER_S3_SECRET_KEY, or neither",
            ));
        }
        if !matches!(self.s3_sse.as_deref(), None | Some("AES256" | "aws:kms")) {
            return Err(invalid("PANNIER_S3_SSE", "must be AES256 or aws:kms"));
        }
        if !(8 << 20..=64 << 20).contains(&self.s3_part_size.bytes()) {
            return Err(invalid("PANNIER_S3_PART_SIZE", "must be between 8MiB and 64MiB"));
        }
        if !(1..=16).contains(&self.s3_upload_concurrency) {
            return Err(invalid("PANNIER_S3_UPLOAD_CONCURRENCY", "must be between 1 and 16"));
        }
        if self.s3_presigned_downloads && self.storage != StorageKind::S3 {
            return Err(invalid(
                "PANNIER_S3_PRESIGNED_DOWNLOADS",
                "needs PANNIER_STORAGE=s3 (local files have no presigned URLs)",
            ));
        }
        if self.s3_direct_uploads && self.storage != StorageKind::S3 {
            return Err(invalid(
                "PANNIER_S3_DIRECT_UPLOADS",
                "needs PANNIER_STORAGE=s3 (browsers can only send parts straight to a bucket)",
            ));
        }
        Ok(())
    }

    /// Whether the public URL is https (cookies then get `Secure` and the `__Host-` prefix).
    pub fn is_https(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    /// The public URL's origin (`scheme://host[:port]`), which browsers send as `Origin`.
    pub fn public_origin(&self) -> String {
        let url = self.public_url();
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        match url[after_scheme..].find('/') {
            Some(slash) => url[..after_scheme + slash].to_owned(),
            None => url,
        }
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// The database URL: the configured one, or the SQLite file in the data dir.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join("pannier.db");
                SecretString::from(format!("sqlite://{}", path.display()))
            }
        }
    }

    /// The engine behind [`Config::database_url`].
    pub fn database_kind(&self) -> DatabaseKind {
        database_kind(self.database_url().expose_secret()).unwrap_or(DatabaseKind::Sqlite)
    }
}

fn database_kind(url: &str) -> Result<DatabaseKind, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseKind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseKind::Postgres)
    } else {
        Err(ConfigError::Invalid {
            key: "PANNIER_DATABASE_URL",
            message: "must start with sqlite:// or postgres://".into(),
        })
    }
}

/// Checks `url` is an absolute http(s) URL with a host, and strips any trailing slash.
fn normalize_http_url(url: &str, key: &'static str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !host.contains(['?', '#']) => {
            Ok(trimmed.to_string())
        }
        _ => Err(ConfigError::Invalid {
            key,
            message: format!("`{url}` is not an absolute http:// or https:// URL"),
        }),
    }
}

#[cfg(test)]
#[expect(clippy::result_large_err, reason = "figment::Jail's closures return figment::Error")]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_apply_without_file_or_env() {
        Jail::expect_with(|_| {
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
            assert_eq!(config.public_url(), "http://127.0.0.1:3000");
            assert_eq!(config.database_kind(), DatabaseKind::Sqlite);
            assert!(config.database_url().expose_secret().ends_with("data/pannier.db"));
            Ok(())
        });
    }

    #[test]
    fn env_overrides_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "pannier.toml",
                "bind = \"0.0.0.0:8080\"\ndata_dir = \"/srv/pannier\"\nlog_format = \"json\"\n",
            )?;
            jail.set_env("PANNIER_BIND", "127.0.0.1:9000");
            jail.set_env("PANNIER_PUBLIC_URL", "https://files.example.com/");
            let config =
                Config::load(Some(Path::new("pannier.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.bind.to_string(), "127.0.0.1:9000");
            assert_eq!(config.data_dir, PathBuf::from("/srv/pannier"));
            assert_eq!(config.log_format, LogFormat::Json);
            assert_eq!(config.public_url(), "https://files.example.com");
            assert_eq!(config.public_origin(), "https://files.example.com");
            assert!(config.is_https());
            Ok(())
        });
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        Jail::expect_with(|jail| {
            jail.set_env("PANNIER_DATABASE_URL", "postgres://pannier:hunter2@db/pannier");
            jail.set_env("PANNIER_DATABASE_READ_URL", "postgres://pannier:hunter3@replica/pannier");
            jail.set_env("PANNIER_REDIS_URL", "redis://:hunter4@cache:6379/0");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.database_kind(), DatabaseKind::Postgres);
            let shown = format!("{config:?}");
            for secret in ["hunter2", "hunter3", "hunter4"] {
                assert!(!shown.contains(secret), "{secret}");
            }
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("PANNIER_DATABASE_URL", "mysql://nope");
            let err = Config::load(None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("PANNIER_DATABASE_URL"), "{err}");

            jail.set_env("PANNIER_DATABASE_URL", "sqlite://x.db");
            jail.set_env("PANNIER_PUBLIC_URL", "files.example.com");
            let err = Config::load(None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("PANNIER_PUBLIC_URL"), "{err}");

            jail.set_env("PANNIER_PUBLIC_URL", "https://files.example.com");
            jail.set_env("PANNIER_DATABASE_READ_URL", "postgres://replica/pannier");
            let err = Config::load(None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("PANNIER_DATABASE_READ_URL"), "a replica of SQLite: {err}");

            jail.set_env("PANNIER_DATABASE_READ_URL", "");
            jail.set_env("PANNIER_REDIS_URL", "cache:6379");
            let err = Config::load(None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("PANNIER_REDIS_URL"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_toml_keys_and_missing_files_are_errors() {
        Jail::expect_with(|jail| {
            jail.create_file("typo.toml", "bnid = \"0.0.0.0:1\"\n")?;
            let err = Config::load(Some(Path::new("typo.toml")))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("bnid"), "{err}");
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_metrics_listener_is_an_address_or_empty() {
        Jail::expect_with(|jail| {
            jail.set_env("PANNIER_METRICS_BIND", "localhost");
            let err = Config::load(None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("PANNIER_METRICS_BIND"), "{err}");
            jail.set_env("PANNIER_METRICS_BIND", "");
            jail.set_env("PANNIER_METRICS_TOKEN", "");
            let config = Config::load(None).expect("empty turns it off");
            assert_eq!(config.metrics_address().ok().flatten(), None);
            assert!(config.metrics_token.is_none(), "an empty token is no token");
            Ok(())
        });
    }
}
