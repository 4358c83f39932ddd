//! The one behaviour both stores must have: every test here runs against
//! SQLite and against PostgreSQL (`<theme>::sqlite::…` and
//! `<theme>::postgres::…`), each on a fresh database of its own. One module a
//! theme; the fixtures are in `tests/support/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod concurrency;
mod dms;
mod history;
mod messages;
mod opening;
mod reads;
mod rooms;
mod search_pages;
mod search_scope;
mod search_words;
mod uploads;
mod users;
