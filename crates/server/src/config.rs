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
    Serve(ServeArgs),
    /// Apply the database migrations, then exit.
    Migrate(StoreArgs),
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
    #[command(flatten)]
    pub security: SecurityArgs,
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
