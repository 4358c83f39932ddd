//! Liveness, readiness, metrics and the OpenAPI document.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::app::{AppState, NS};

pub fn router(doc: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
}

/// GET /readyz — 200 when the store answers and, in cluster mode, Redis too;
/// 503 otherwise (a load balancer then stops sending new clients here).
async fn ready(State(s): State<AppState>) -> (StatusCode, axum::Json<serde_json::Value>) {
    let started = Instant::now();
    let store = match tokio::time::timeout(Duration::from_secs(3), s.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    };
    s.metrics.store_ping(started.elapsed(), store.is_ok());
    let redis = match &s.cluster {
        Some(c) => Some(c.ping().await),
        None => None,
    };
    let mut body = json!({ "store": if store.is_ok() { "ok" } else { "unreachable" } });
    if let Err(e) = &store {
        tracing::warn!(error = %e, "readyz: store unreachable");
    }
    if let Some(r) = &redis {
        body["redis"] = json!(if r.is_ok() { "ok" } else { "unreachable" });
        if let Err(e) = r {
            tracing::warn!(error = %e, "readyz: Redis unreachable");
        }
    }
    let ok = store.is_ok() && redis.as_ref().is_none_or(Result::is_ok);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

/// GET /metrics — Prometheus text format. With `NATTER_METRICS_TOKEN` set,
/// only for `Authorization: Bearer <that token>` (401 otherwise).
async fn metrics(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(want) = s
        .config
        .security
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(given.trim().as_bytes(), want.as_bytes()) {
            return crate::error::ApiError(natter_core::Error::Unauthenticated(
                "metrics need the metrics token".into(),
            ))
            .into_response();
        }
    }
    let m = &s.metrics;
    m.connections
        .set(i64::try_from(s.engine.connection_count()).unwrap_or(i64::MAX));
    m.sockets
        .set(i64::try_from(s.engine.local_socket_count(NS)).unwrap_or(i64::MAX));
    m.redis_up.set(i64::from(
        s.cluster.as_ref().is_some_and(|c| c.is_connected()),
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}

/// Compares without an early exit, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
