//! The `natter` server: REST API, Socket.IO gateway, auth and the embedded UI,
//! assembled over a `Store` and the realtime engine.

// The state every door and service shares, and what it is built from.
pub mod app;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod limits;
pub mod metrics;
pub mod order;
pub mod proxy;
mod setup;

// The two doors: REST (`http`, `envelope`, `origin`, `error`) and Socket.IO
// (`gateway`, `ack`); each feature below adds its handlers to them.
pub mod ack;
pub mod envelope;
pub mod error;
pub mod gateway;
pub mod http;
pub mod listener;
pub mod origin;
pub mod web;

// The features, each a folder with its service and its doors.
pub mod auth;
pub mod dms;
pub mod files;
pub mod messages;
pub mod presence;
pub mod push;
pub mod reads;
pub mod rooms;
pub mod search;
pub mod sync;
pub mod typing;
pub mod users;

use std::net::SocketAddr;
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
use crate::auth::tokens::Tokens;
use crate::config::ServeArgs;
use crate::gateway::Gateway;

/// REST JSON bodies over this are `too_large`.
pub const MAX_BODY_BYTES: usize = 1_000_000;

/// Builds the node: store (migrated), engine, state, router.
pub async fn build(config: ServeArgs) -> anyhow::Result<(Router, AppState)> {
    let files = files::from_config(&config.files, &config.store.data_dir)?;
    build_with_files(config, files).await
}

/// `build` with the given file store (tests swap it).
pub async fn build_with_files(
    config: ServeArgs,
    files: Arc<dyn files::Files>,
) -> anyhow::Result<(Router, AppState)> {
    build_with(
        config,
        Parts {
            files,
            clock: Arc::new(clock::SystemClock),
            presence: None,
            push: None,
        },
    )
    .await
}

/// The external parts of a node a test can swap for its own.
pub struct Parts {
    /// Where uploaded bytes live.
    pub files: Arc<dyn files::Files>,
    pub clock: Arc<dyn clock::Clock>,
    /// `None`: in memory, or shared through Redis in cluster mode.
    pub presence: Option<Arc<dyn presence::Presence>>,
    /// Where pushes go; `None`: the subscriptions' push services over HTTP.
    pub push: Option<Arc<dyn push::sender::Deliver>>,
}

/// `build` with the given parts.
pub async fn build_with(config: ServeArgs, parts: Parts) -> anyhow::Result<(Router, AppState)> {
    let url = config.store.database_url();
    let redis_url = config.redis_url.clone().filter(|u| !u.trim().is_empty());
    if redis_url.is_some() && config.store.is_embedded() {
        bail!(
            "REDIS_URL is set (cluster mode), but DATABASE_URL is SQLite: every node of a \
             cluster must share one PostgreSQL database (set DATABASE_URL=postgres://…)"
        );
    }
    let trusted = proxy::TrustedProxies::parse(&config.security.trusted_proxies)
        .map_err(anyhow::Error::msg)?;
    let frontend_origin = setup::frontend_origin(config.frontend_url.as_deref())?;
    setup::prepare_data_dir(&config)?;
    let secret = setup::jwt_secret(&config)?;
    let vapid =
        push::vapid::Vapid::load(&config.push, &config.store.data_dir, redis_url.is_some())?;
    let metrics = metrics::Metrics::new();
    let store = natter_store::connect(&url)
        .await
        .with_context(|| format!("could not open the store at {}", setup::redact(&url)))?;
    let cluster = match &redis_url {
        Some(redis_url) => Some(
            cluster::Cluster::connect(
                &cluster::ClusterOptions {
                    prefix: cluster::prefix_for_url(redis_url),
                    url: redis_url.clone(),
                },
                metrics.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let push = push::Push::start(
        vapid,
        &config.push,
        store.clone(),
        &metrics,
        cluster.clone(),
        parts.push.clone(),
    )?;
    let (fanout, shared): (Arc<dyn natter_realtime::Fanout>, _) = match &cluster {
        Some(c) => (
            cluster::fanout::RedisFanout::start(c.clone()),
            Some(cluster::presence::RedisPresence::new(c.clone())),
        ),
        None => (Arc::new(NoopFanout), None),
    };
    let presence: Arc<dyn presence::Presence> = match (&parts.presence, &shared) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => Arc::new(presence::LocalPresence::default()),
    };
    let engine = Engine::new(
        EngineConfig {
            cors_origin: frontend_origin.clone(),
            ..EngineConfig::default()
        },
        Arc::new(metrics::MeteredFanout::new(fanout, metrics.clone())),
    );
    let uploads = files::uploads::Uploads::new(&config.files, config.rate_limits_on());
    let app = AppState(Arc::new(App {
        tokens: Tokens::new(&secret, Duration::from_secs(config.token_ttl_hours * 3600)),
        limits: limits::RateLimits::new(config.rate_limits_on()),
        passwords: auth::passwords::Passwords::default(),
        presence,
        clock: parts.clock,
        typing: typing::Typing::default(),
        room_locks: order::RoomLocks::default(),
        store,
        engine: engine.clone(),
        config,
        metrics: metrics.clone(),
        cluster: cluster.clone(),
        push,
        uploads,
        files: parts.files,
        sessions: auth::sessions::SessionCache::default(),
        trusted,
    }));
    engine.namespace(
        NS,
        metrics::Metered::new(Gateway::new(app.clone()), metrics.clone()),
    );
    if let Some(c) = &cluster {
        start_cluster(&app, c, shared.as_ref()).await?;
    }
    start_store_probe(&app);
    files::service::start_sweeper(&app);
    tracing::info!("uploads are stored in the {}", app.files.describe());
    if app.cluster.is_some() && app.config.files.s3_bucket.is_none() {
        tracing::warn!(
            "cluster mode with uploads in a local folder: set AWS_S3_BUCKET (or share the folder) \
             so every node serves every file"
        );
    }
    auth::service::start_sweeper(&app);

    let mut router = http::router()
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            origin::guard,
        ))
        .layer(axum::middleware::from_fn(envelope::wrap_errors))
        .with_state(app.clone())
        .merge(engine.router())
        .fallback(web::static_handler)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            web::csp(frontend_origin.as_deref())?,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http());
    if let Some(origin) = &frontend_origin {
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

/// Wires a node into the cluster: ops from other nodes reach this engine, and
/// presence beats (taking dead nodes' users offline).
async fn start_cluster(
    app: &AppState,
    c: &Arc<cluster::Cluster>,
    presence: Option<&Arc<cluster::presence::RedisPresence>>,
) -> anyhow::Result<()> {
    let engine = app.engine.clone();
    cluster::fanout::subscribe(c.clone(), move |op| engine.apply_remote(op))
        .await
        .context("could not subscribe to the fan-out channel")?;
    if let Some(p) = presence {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        p.start_heartbeat(tx);
        // the first beat now, so this node counts as alive from the start
        if let Err(e) = p.beat().await {
            tracing::warn!(error = %e, "presence: first heartbeat failed");
        }
        let weak = Arc::downgrade(&app.0);
        tokio::spawn(async move {
            while let Some((user, at)) = rx.recv().await {
                let Some(app) = weak.upgrade() else { break };
                app.announce_offline(user, None, at).await;
            }
        });
    }
    Ok(())
}

/// Pings the store every 5 s for `/metrics` (latency and up/down).
fn start_store_probe(app: &AppState) {
    let weak = Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let Some(app) = weak.upgrade() else { break };
            let started = std::time::Instant::now();
            let ok = tokio::time::timeout(Duration::from_secs(5), app.store.ping())
                .await
                .is_ok_and(|r| r.is_ok());
            app.metrics.store_ping(started.elapsed(), ok);
        }
    });
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
    let cluster = app.cluster.clone();
    let limits = app.config.conn_limits.limits();
    listener::serve(listener, router, limits, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: closing sockets, finishing requests");
        engine.shutdown().await;
    })
    .await?;
    // HTTP requests have finished; let socket handlers already running (a send
    // being stored, presence updates of the closed sockets) finish too
    wait_for_handlers(&app).await;
    if let Some(c) = cluster {
        c.leave().await;
    }
    Ok(())
}

/// Waits (at most 10 s) until this node has no socket left and no socket
/// handler running, seen twice in a row 100 ms apart.
async fn wait_for_handlers(app: &AppState) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut quiet = 0;
    while quiet < 2 && tokio::time::Instant::now() < deadline {
        let idle =
            app.engine.local_socket_count(NS) == 0 && app.metrics.handlers_in_flight.get() == 0;
        quiet = if idle { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if quiet < 2 {
        tracing::warn!("shutdown: socket handlers still running after 10 s");
    }
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
