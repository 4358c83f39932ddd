//! The web UI, built by Vite into `web/dist` and embedded in the binary.
//! Any GET that is not the API or the socket gets `index.html` (client routing).

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct Assets;

/// Tight by default: no inline script, nothing from other origins. The page
/// may connect only to its own origin (which covers its own `ws:`/`wss:` in
/// current browsers) and to `FRONTEND_URL`.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The CSP header, with `FRONTEND_URL` (already checked to be one origin)
/// added to `connect-src`.
pub fn csp(frontend: Option<&str>) -> anyhow::Result<HeaderValue> {
    let value = match frontend {
        Some(origin) => CSP.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {origin}"),
        ),
        None => CSP.to_owned(),
    };
    Ok(HeaderValue::from_str(&value)?)
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Natter</title>\
<h1>Natter is running, but its web UI was not built into this binary</h1>\
<p>Install Node.js 20+ and npm, then rebuild: <code>cargo run --release</code> builds <code>web/</code> \
automatically, or run <code>npm ci && npm run build</code> in <code>web/</code> and rebuild the server.</p>\
<p>The API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>";

pub async fn static_handler(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return crate::error::ApiError(natter_core::Error::not_found("no such endpoint"))
            .into_response();
    }
    if path.starts_with("socket.io") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_str(mime.as_ref())
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            file.data,
        )
            .into_response();
    }
    match Assets::get("index.html") {
        Some(index) => (
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
            Html(index.data),
        )
            .into_response(),
        None => Html(NOT_BUILT).into_response(),
    }
}
