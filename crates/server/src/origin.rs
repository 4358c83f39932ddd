//! Cross-site rules. A browser sends the session cookie with requests that
//! other sites' pages make, so whatever the cookie authenticates must come
//! from Natter's own pages: the request's `Origin` must be the server's own
//! origin (its `Host`, or a trusted proxy's `X-Forwarded-Host`) or
//! `FRONTEND_URL`. Without `Origin`, `Sec-Fetch-Site` (when sent) must say
//! `same-origin` or `none`. Clients that send their token themselves
//! (`Authorization: Bearer`, Socket.IO `auth.token`) are not affected: no
//! other site can make a browser send those.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use natter_core::Error;

use crate::app::{App, AppState};
use crate::error::ApiError;

impl App {
    /// `Ok` when a cookie-carrying request may act: it comes from our origin.
    pub fn check_same_origin(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        authority: Option<&str>,
    ) -> Result<(), Error> {
        let refused = || Error::forbidden("cross-site request refused");
        let Some(origin) = headers.get(header::ORIGIN) else {
            let site = headers
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("same-origin");
            return if matches!(site, "same-origin" | "none") {
                Ok(())
            } else {
                Err(refused())
            };
        };
        let origin = origin.to_str().map_err(|_| refused())?.trim();
        if let Some(front) = &self.config.frontend_url {
            if origin.eq_ignore_ascii_case(front.trim().trim_end_matches('/')) {
                return Ok(());
            }
        }
        let Some((_, origin_host)) = origin.split_once("://") else {
            return Err(refused()); // "null" and the like
        };
        let own = peer
            .and_then(|p| self.trusted.forwarded_host(p, headers))
            .or_else(|| {
                headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .or_else(|| authority.map(str::to_owned));
        match own {
            Some(host) if host.trim().eq_ignore_ascii_case(origin_host) => Ok(()),
            _ => Err(refused()),
        }
    }
}

/// Middleware on the REST API: a state-changing request (POST, PUT, PATCH,
/// DELETE) without `Authorization` must come from our origin (it may carry
/// the cookie; login and register also set one).
pub async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if unsafe_method && !req.headers().contains_key(header::AUTHORIZATION) {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let authority = req.uri().authority().map(|a| a.as_str().to_owned());
        if let Err(e) = app.check_same_origin(req.headers(), peer, authority.as_deref()) {
            return ApiError(e).into_response();
        }
    }
    next.run(req).await
}
