//! The table of every configuration key: TOML name, environment name, default, meaning.

/// One configuration key: its TOML name, its environment name, its default and what it does.
pub struct ConfigKey {
    /// The key in the TOML file.
    pub toml: &'static str,
    /// The environment variable that overrides it.
    pub env: &'static str,
    /// The default, as a person would write it.
    pub default: &'static str,
    /// What it controls.
    pub help: &'static str,
}

/// Every configuration key Pannier reads.
pub const KEYS: &[ConfigKey] = &[
    ConfigKey {
        toml: "bind",
        env: "PANNIER_BIND",
        default: "127.0.0.1:3000",
        help: "Address and port the HTTP server listens on (port 0 picks a free one).",
    },
    ConfigKey {
        toml: "public_url",
        env: "PANNIER_PUBLIC_URL",
        default: "http://<bind>",
        help: "The URL people use to reach Pannier (scheme, host, optional port and path).",
    },
    ConfigKey {
        toml: "data_dir",
        env: "PANNIER_DATA_DIR",
        default: "./data",
        help: "Directory for the embedded database and local file storage.",
    },
    ConfigKey {
        toml: "database_url",
        env: "PANNIER_DATABASE_URL",
        default: "sqlite://<data_dir>/pannier.db",
        help: "sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (secret: never logged).",
    },
    ConfigKey {
        toml: "log_format",
        env: "PANNIER_LOG_FORMAT",
        default: "pretty",
        help: "Log output: `pretty` for people, `json` for log collectors.",
    },
    ConfigKey {
        toml: "log_level",
        env: "PANNIER_LOG_LEVEL",
        default: "info",
        help: "Log filter, e.g. `info` or `info,sqlx=warn,server=debug`.",
    },
    ConfigKey {
        toml: "site_root",
        env: "PANNIER_SITE_ROOT",
        default: "target/site",
        help: "Directory holding the built static site (pkg/ bundle, favicon, …).",
    },
    ConfigKey {
        toml: "assets_base_url",
        env: "PANNIER_ASSETS_BASE_URL",
        default: "(empty: same origin)",
        help: "Origin the page loads /pkg assets from, e.g. a CDN: https://cdn.example.com.",
    },
    ConfigKey {
        toml: "session_idle_minutes",
        env: "PANNIER_SESSION_IDLE_MINUTES",
        default: "720",
        help: "A signed-in session ends after this long without a request.",
    },
    ConfigKey {
        toml: "session_remember_days",
        env: "PANNIER_SESSION_REMEMBER_DAYS",
        default: "30",
        help: "With \"remember me\", the inactivity limit in days instead.",
    },
    ConfigKey {
        toml: "session_absolute_days",
        env: "PANNIER_SESSION_ABSOLUTE_DAYS",
        default: "30",
        help: "Every session ends this many days after signing in, active or not.",
    },
    ConfigKey {
        toml: "share_log_days",
        env: "PANNIER_SHARE_LOG_DAYS",
        default: "90",
        help: "Share links' access logs keep entries this many days.",
    },
    ConfigKey {
        toml: "max_upload_parts",
        env: "PANNIER_MAX_UPLOAD_PARTS",
        default: "1000",
        help: "Most parts (files and fields) one multipart upload may hold; past it → 413.",
    },
    ConfigKey {
        toml: "max_zip_files",
        env: "PANNIER_MAX_ZIP_FILES",
        default: "50000",
        help: "Most files one share link's zip holds (a zip reads every entry first).",
    },
    ConfigKey {
        toml: "header_timeout_secs",
        env: "PANNIER_HEADER_TIMEOUT_SECS",
        default: "10",
        help: "A connection that has not sent a whole request head in this time is closed (also an idle keep-alive one).",
    },
    ConfigKey {
        toml: "request_timeout_secs",
        env: "PANNIER_REQUEST_TIMEOUT_SECS",
        default: "30",
        help: "Deadline for requests that do not stream a file (pages, JSON, forms) → 503.",
    },
    ConfigKey {
        toml: "send_timeout_secs",
        env: "PANNIER_SEND_TIMEOUT_SECS",
        default: "60",
        help: "A client that takes nothing of an answer for this long (a stalled download) loses the connection.",
    },
    ConfigKey {
        toml: "database_timeout_secs",
        env: "PANNIER_DATABASE_TIMEOUT_SECS",
        default: "5",
        help: "How long a request waits for a database connection before a 503 (and how long connecting may take).",
    },
    ConfigKey {
        toml: "max_connections",
        env: "PANNIER_MAX_CONNECTIONS",
        default: "4096",
        help: "Open connections at most; past it a new one is closed at once.",
    },
    ConfigKey {
        toml: "max_connections_per_address",
        env: "PANNIER_MAX_CONNECTIONS_PER_ADDRESS",
        default: "64",
        help: "Open connections at most from one client address (trusted proxies exempt).",
    },
    ConfigKey {
        toml: "max_in_flight",
        env: "PANNIER_MAX_IN_FLIGHT",
        default: "256",
        help: "Requests handled at once; past it → 503 with Retry-After at once (no queue).",
    },
    ConfigKey {
        toml: "upload_idle_timeout_secs",
        env: "PANNIER_UPLOAD_IDLE_TIMEOUT_SECS",
        default: "60",
        help: "An upload whose body sends nothing for this long is cut (a tus upload keeps what arrived).",
    },
    ConfigKey {
        toml: "max_header_bytes",
        env: "PANNIER_MAX_HEADER_BYTES",
        default: "16384",
        help: "Largest request head (request line and headers) read; larger → the connection is refused (431).",
    },
    ConfigKey {
        toml: "max_headers",
        env: "PANNIER_MAX_HEADERS",
        default: "64",
        help: "Most header fields in a request; more → 431.",
    },
    ConfigKey {
        toml: "password_hashing_concurrency",
        env: "PANNIER_PASSWORD_HASHING_CONCURRENCY",
        default: "2",
        help: "argon2 checks (19 MiB each) run at once; more wait up to 2 s, then → 503.",
    },
    ConfigKey {
        toml: "trusted_proxies",
        env: "PANNIER_TRUSTED_PROXIES",
        default: "",
        help: "Comma-separated CIDRs (`127.0.0.1/32,10.0.0.0/8`) whose X-Forwarded-For and x-request-id are believed; empty: none.",
    },
    ConfigKey {
        toml: "metrics_bind",
        env: "PANNIER_METRICS_BIND",
        default: "127.0.0.1:9464",
        help: "Where GET /metrics (Prometheus) is served, apart from the site; empty: nowhere.",
    },
    ConfigKey {
        toml: "metrics_token",
        env: "PANNIER_METRICS_TOKEN",
        default: "",
        help: "When set, /metrics also wants `Authorization: Bearer <this>`.",
    },
    ConfigKey {
        toml: "rate_requests",
        env: "PANNIER_RATE_REQUESTS",
        default: "1200",
        help: "Requests per minute per account or address (0: off).",
    },
    ConfigKey {
        toml: "rate_uploads",
        env: "PANNIER_RATE_UPLOADS",
        default: "600",
        help: "Uploads started per minute per account or address (0: off).",
    },
    ConfigKey {
        toml: "rate_downloads",
        env: "PANNIER_RATE_DOWNLOADS",
        default: "1200",
        help: "File and zip downloads per minute per account or address (0: off).",
    },
    ConfigKey {
        toml: "rate_sign_ins",
        env: "PANNIER_RATE_SIGN_INS",
        default: "10",
        help: "Sign-in attempts per 15 minutes per account (twice that per address; 0: off).",
    },
    ConfigKey {
        toml: "rate_sign_ups",
        env: "PANNIER_RATE_SIGN_UPS",
        default: "10",
        help: "Sign-ups per hour per address (0: off).",
    },
    ConfigKey {
        toml: "rate_unlocks",
        env: "PANNIER_RATE_UNLOCKS",
        default: "5",
        help: "Password attempts per 15 minutes per share link and address (0: off).",
    },
    ConfigKey {
        toml: "shutdown_timeout_secs",
        env: "PANNIER_SHUTDOWN_TIMEOUT_SECS",
        default: "30",
        help: "On SIGTERM/SIGINT, how long in-flight requests may take to finish.",
    },
    ConfigKey {
        toml: "storage",
        env: "PANNIER_STORAGE",
        default: "local",
        help: "Where file bytes live: `local` (under <data_dir>/blobs) or `s3`.",
    },
    ConfigKey {
        toml: "s3_endpoint",
        env: "PANNIER_S3_ENDPOINT",
        default: "(empty: AWS)",
        help: "S3 endpoint URL for non-AWS servers (Garage, MinIO, …), e.g. http://127.0.0.1:3900.",
    },
    ConfigKey {
        toml: "s3_bucket",
        env: "PANNIER_S3_BUCKET",
        default: "(none)",
        help: "The bucket holding file bytes (must exist; required with storage = s3).",
    },
    ConfigKey {
        toml: "s3_region",
        env: "PANNIER_S3_REGION",
        default: "us-east-1",
        help: "The bucket's region (Garage: its `s3_region`).",
    },
    ConfigKey {
        toml: "s3_access_key",
        env: "PANNIER_S3_ACCESS_KEY",
        default: "(empty: default chain)",
        help: "Static access key id; without it the AWS default credential chain is used.",
    },
    ConfigKey {
        toml: "s3_secret_key",
        env: "PANNIER_S3_SECRET_KEY",
        default: "(empty)",
        help: "Static secret key (secret: never logged).",
    },
    ConfigKey {
        toml: "s3_path_style",
        env: "PANNIER_S3_PATH_STYLE",
        default: "false",
        help: "Address the bucket as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT (most self-hosted S3).",
    },
    ConfigKey {
        toml: "s3_sse",
        env: "PANNIER_S3_SSE",
        default: "(empty: none)",
        help: "Server-side encryption header to send on writes: `AES256` or `aws:kms`.",
    },
    ConfigKey {
        toml: "s3_part_size",
        env: "PANNIER_S3_PART_SIZE",
        default: "16MiB",
        help: "Multipart part size for large objects (8MiB–64MiB).",
    },
    ConfigKey {
        toml: "s3_upload_concurrency",
        env: "PANNIER_S3_UPLOAD_CONCURRENCY",
        default: "4",
        help: "Parts of one object uploaded at the same time (1–16).",
    },
    ConfigKey {
        toml: "s3_presigned_downloads",
        env: "PANNIER_S3_PRESIGNED_DOWNLOADS",
        default: "false",
        help: "Redirect downloads to short-lived presigned S3 URLs instead of proxying the bytes.",
    },
    ConfigKey {
        toml: "s3_direct_uploads",
        env: "PANNIER_S3_DIRECT_UPLOADS",
        default: "false",
        help: "Browsers send resumable uploads straight to S3 (needs the bucket CORS rule).",
    },
    ConfigKey {
        toml: "max_file_size",
        env: "PANNIER_MAX_FILE_SIZE",
        default: "10GiB",
        help: "Largest single file accepted, e.g. `500MiB`, `10GiB` (`0`: no limit).",
    },
    ConfigKey {
        toml: "upload_expiry_hours",
        env: "PANNIER_UPLOAD_EXPIRY_HOURS",
        default: "24",
        help: "A resumable upload untouched this long is abandoned: its bytes are deleted.",
    },
    ConfigKey {
        toml: "default_quota",
        env: "PANNIER_DEFAULT_QUOTA",
        default: "0",
        help: "Storage each account may use unless an admin sets its own (`0`: unlimited).",
    },
    ConfigKey {
        toml: "user_content_url",
        env: "PANNIER_USER_CONTENT_URL",
        default: "(empty: same origin)",
        help: "A separate origin serving file bytes through signed links, e.g. https://usercontent.example.com.",
    },
];
