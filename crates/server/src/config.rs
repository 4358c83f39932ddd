//! One typed configuration: flags, environment and `.env`, with the brief's
//! variable names. Every field documents its default.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "natter",
    version,
    about = "Natter: a self-hosted real-time chat server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Used when no subcommand is given: `natter` alone means `natter serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Apply the database migrations, then exit.
    Migrate(StoreArgs),
    /// Print a new VAPID private key (for `NATTER_VAPID_PRIVATE_KEY`) and its public key.
    VapidKey,
}

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Where data lives by default: the SQLite file, the generated JWT secret, uploads.
    #[arg(long, env = "NATTER_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL, `sqlite://path` for SQLite. Default:
    /// SQLite at `<data-dir>/natter.db`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}

impl StoreArgs {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("natter.db").display()))
    }

    pub fn is_embedded(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, env = "NATTER_BIND", default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Redis for fan-out and presence across nodes (cluster mode). Unset: one node.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Secret signing session tokens (HS256). Embedded mode generates one into
    /// `<data-dir>/jwt_secret` when unset; cluster mode refuses to start without it.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Origin allowed to call the API and socket cross-origin (CORS), e.g. a dev UI.
    #[arg(long, env = "FRONTEND_URL")]
    pub frontend_url: Option<String>,
    /// How long a session token lives, in hours.
    #[arg(long, env = "NATTER_TOKEN_TTL_HOURS", default_value_t = 24 * 7)]
    pub token_ttl_hours: u64,
    /// `on` (default) or `off`: per-user and per-address limits on registration,
    /// login and sends. `off` is for tests and benchmarks.
    #[arg(long, env = "NATTER_RATE_LIMITS", default_value = "on")]
    pub rate_limits: String,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    #[arg(long, env = "NATTER_SECURE_COOKIE", default_value_t = false)]
    pub secure_cookie: bool,
    /// HTTP connection limits (slowloris, connection floods).
    #[command(flatten)]
    pub conn_limits: ConnLimitArgs,
    #[command(flatten)]
    pub push: PushArgs,
    /// Uploads: where they are stored and how much a user may upload.
    #[command(flatten)]
    pub files: FilesArgs,
    #[command(flatten)]
    pub security: SecurityArgs,
}

/// HTTP connection limits; see `listener::Limits` and docs/SECURITY.md.
#[derive(Args, Clone, Debug)]
pub struct ConnLimitArgs {
    /// Seconds a client has to send a request's headers, and that an idle
    /// keep-alive connection stays open (0 = no limit).
    #[arg(long, env = "NATTER_HTTP_HEADER_TIMEOUT_SECS", default_value_t = 20)]
    pub http_header_timeout_secs: u64,
    /// Open HTTP/websocket connections in total (0 = no cap).
    #[arg(long, env = "NATTER_MAX_CONNECTIONS", default_value_t = 100_000)]
    pub max_connections: usize,
    /// Open connections per client address, IPv6 per /64 (0 = no cap). Loopback
    /// peers (a local reverse proxy, the benchmarks) are not capped per address.
    #[arg(long, env = "NATTER_MAX_CONNECTIONS_PER_IP", default_value_t = 5_000)]
    pub max_connections_per_ip: usize,
}

impl Default for ConnLimitArgs {
    fn default() -> Self {
        ConnLimitArgs {
            http_header_timeout_secs: 20,
            max_connections: 100_000,
            max_connections_per_ip: 5_000,
        }
    }
}

impl ConnLimitArgs {
    pub fn limits(&self) -> crate::listener::Limits {
        crate::listener::Limits {
            header_timeout: (self.http_header_timeout_secs > 0)
                .then(|| std::time::Duration::from_secs(self.http_header_timeout_secs)),
            max_connections: self.max_connections,
            max_per_ip: self.max_connections_per_ip,
            exempt_loopback: true,
        }
    }
}

/// Web Push (RFC 8030/8291/8292), sent by Natter itself: no vendor relay.
#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// The VAPID private key: base64url of the raw 32-byte P-256 scalar (or a
    /// PEM/PKCS#8 key). A single node generates one into `<data-dir>/vapid_private_key`
    /// when unset; cluster mode refuses to start without it (every node signs alike).
    #[arg(long, env = "NATTER_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,
    /// Contact for push services, `mailto:…` or `https:…` (the JWT's `sub`).
    /// Required with `NATTER_VAPID_PRIVATE_KEY`; default `mailto:admin@localhost`
    /// for a generated key.
    #[arg(long, env = "NATTER_VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,
    /// Also allow `http` endpoints and ones on loopback/private/link-local
    /// addresses (tests and LAN push services only).
    #[arg(long, env = "NATTER_PUSH_ALLOW_PRIVATE", default_value_t = false)]
    pub push_allow_private: bool,
    /// `false`: pushes say "New message" instead of the sender's text.
    #[arg(long, env = "NATTER_PUSH_PREVIEW", default_value_t = true, action = clap::ArgAction::Set)]
    pub push_preview: bool,
}

impl Default for PushArgs {
    fn default() -> Self {
        PushArgs {
            vapid_private_key: None,
            vapid_subject: None,
            push_allow_private: false,
            push_preview: true,
        }
    }
}

/// Hardening settings (docs/SECURITY.md). All default to off / empty.
#[derive(Debug, Clone, Default, Args)]
pub struct SecurityArgs {
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` / `X-Forwarded-Proto`
    /// / `X-Forwarded-Host` are believed: comma-separated addresses or CIDRs,
    /// e.g. `127.0.0.1,10.0.0.0/8`. Unset: the TCP peer is the client.
    #[arg(long, env = "NATTER_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// When set, `/metrics` needs `Authorization: Bearer <this token>`.
    #[arg(long, env = "NATTER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl ServeArgs {
    pub fn rate_limits_on(&self) -> bool {
        !matches!(
            self.rate_limits.to_ascii_lowercase().as_str(),
            "off" | "false" | "0" | "no"
        )
    }
}

/// Uploads: the store (a local folder, or S3 when `AWS_S3_BUCKET` is set) and
/// the limits. See docs/OPERATIONS.md ("File storage").
#[derive(Debug, Clone, Args)]
pub struct FilesArgs {
    /// Largest upload, in MB (`too_large` beyond).
    #[arg(long, env = "NATTER_MAX_UPLOAD_MB", default_value_t = 10)]
    pub max_upload_mb: u64,
    /// What one user may upload in 24 hours, in MB (`too_large` beyond).
    #[arg(long, env = "NATTER_UPLOAD_QUOTA_MB", default_value_t = 1024)]
    pub upload_quota_mb: u64,
    /// S3 bucket for uploads; set it to store files in S3 instead of
    /// `<data-dir>/uploads` (needed for a cluster without a shared volume).
    #[arg(long, env = "AWS_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// S3 region (default `us-east-1`).
    #[arg(long, env = "AWS_REGION")]
    pub s3_region: Option<String>,
    /// Endpoint of an S3-compatible service (MinIO, Ceph, R2, Garage…):
    /// path-style requests; `http://` allowed.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub s3_endpoint: Option<String>,
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
}

impl Default for FilesArgs {
    fn default() -> Self {
        FilesArgs {
            max_upload_mb: 10,
            upload_quota_mb: 1024,
            s3_bucket: None,
            s3_region: None,
            s3_endpoint: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
        }
    }
}
