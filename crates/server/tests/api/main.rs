//! The REST API end to end, on both stores: accounts, rooms, members, DMs,
//! messages and history, errors and permissions. One module a theme; the
//! node and its helpers are in `tests/common/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod messages;
mod rooms;
mod service;
