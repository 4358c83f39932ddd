//! Issue 14 (hardening) over real HTTP, on both stores: revocable sessions,
//! cross-site rules, trusted proxies and limits, the error envelope
//! everywhere, and the small things (search caps, metrics token, CSP,
//! FRONTEND_URL). One module a theme; each test starts its own node (some
//! change the config) with `tests/common/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod config;
mod envelope;
mod input;
mod limits;
mod origin;
mod sessions;
