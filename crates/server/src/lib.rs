//! The `natter` server: REST API, Socket.IO gateway, auth and the embedded UI,
//! assembled over a `Store` and the realtime engine.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod limits;
pub mod presence;
pub mod services;
pub mod web;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method};
use axum::Router;
use natter_realtime::{Engine, EngineConfig, NoopFanout};
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::{App, AppState, NS};
use crate::auth::Tokens;
use crate::config::ServeArgs;
use crate::gateway::Gateway;

/// REST JSON bodies over this are `too_large`.
pub const MAX_BODY_BYTES: usize = 1_000_000;

/// Builds the node: store (migrated), engine, state, router.
pub async fn build(config: ServeArgs) -> anyhow::Result<(Router, AppState)> {
    let url = config.store.database_url();
    if config
        .redis_url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty())
    {
        bail!(
            "REDIS_URL is set, but this build of Natter has no Redis fan-out yet: \
             run a single node (unset REDIS_URL)"
        );
    }
    let secret = jwt_secret(&config)?;
    let store = natter_store::connect(&url)
        .await
        .with_context(|| format!("could not open the store at {}", redact(&url)))?;
    let engine = Engine::new(
        EngineConfig {
            cors_origin: config.frontend_url.clone(),
            ..EngineConfig::default()
        },
        Arc::new(NoopFanout),
    );
    let app = AppState(Arc::new(App {
        tokens: Tokens::new(&secret, Duration::from_secs(config.token_ttl_hours * 3600)),
        limits: limits::RateLimits::new(config.rate_limits_on()),
        presence: presence::Presence::default(),
        typing: gateway::Typing::default(),
        store,
        engine: engine.clone(),
        config,
    }));
    engine.namespace(NS, Gateway::new(app.clone()));

    let mut router = http::router()
        .with_state(app.clone())
        .merge(engine.router())
        .fallback(web::static_handler)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(web::CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http());
    if let Some(origin) = &app.config.frontend_url {
        let origin = HeaderValue::from_str(origin).context("FRONTEND_URL is not a valid origin")?;
        router = router.layer(
            CorsLayer::new()
                .allow_origin(origin)
                .allow_credentials(true)
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
        );
    }
    Ok((router, app))
}

/// Runs until SIGTERM / Ctrl-C, then closes sockets (clients reconnect) and
/// finishes in-flight requests.
pub async fn serve(config: ServeArgs) -> anyhow::Result<()> {
    let addr = SocketAddr::new(config.bind, config.port);
    let (router, app) = build(config).await?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    tracing::info!("natter listening on http://{}", listener.local_addr()?);
    let engine = app.engine.clone();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: closing sockets, finishing requests");
        engine.shutdown().await;
    })
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `JWT_SECRET`, or in embedded (SQLite) mode one generated once and kept in
/// `<data-dir>/jwt_secret`. Other modes refuse to start without it: every node
/// of a cluster must share it.
fn jwt_secret(config: &ServeArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = config.jwt_secret.as_deref().filter(|s| !s.is_empty()) {
        if s.len() < 16 {
            bail!("JWT_SECRET must be at least 16 characters");
        }
        return Ok(s.as_bytes().to_vec());
    }
    if !config.store.is_embedded() {
        bail!(
            "JWT_SECRET is required when DATABASE_URL is not SQLite (every node must share it); \
             set JWT_SECRET to a long random string"
        );
    }
    let path = config.store.data_dir.join("jwt_secret");
    load_or_create_secret(&path)
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim();
        if s.len() >= 32 {
            return Ok(s.as_bytes().to_vec());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret).with_context(|| format!("could not write {}", path.display()))?;
    tracing::info!("generated a JWT secret in {}", path.display());
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
