//! Extractors every REST feature shares: the caller's address and whether the
//! session cookie is `Secure`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::AppState;

/// The TCP peer of a request (loopback when unknown, as in unit tests).
fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The caller's address (for per-address rate limits): the TCP peer, or what
/// a trusted proxy says (`NATTER_TRUSTED_PROXIES`).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(s.trusted.client_ip(peer(parts), &parts.headers)))
    }
}

/// Whether the session cookie gets `Secure`: `NATTER_SECURE_COOKIE`, or the
/// request reached a trusted proxy over HTTPS.
pub struct SecureCookie(pub bool);

impl FromRequestParts<AppState> for SecureCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        Ok(SecureCookie(
            s.config.secure_cookie || s.trusted.forwarded_https(peer(parts), &parts.headers),
        ))
    }
}
