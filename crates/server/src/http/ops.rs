//! Liveness, readiness and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::app::AppState;

pub fn router(doc: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
}

/// 200 when the store answers; 503 otherwise.
async fn ready(State(s): State<AppState>) -> (StatusCode, axum::Json<serde_json::Value>) {
    match s.store.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"store": "ok"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readyz: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"store": "unreachable"})),
            )
        }
    }
}
