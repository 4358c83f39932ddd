//! Natter's storage: one [`Store`] trait, two backends (SQLite, PostgreSQL) that
//! behave the same and are held to it by one conformance suite
//! (`tests/conformance/`).
//!
//! Every change of a room (message new/edited/deleted, reactions changed) takes
//! the room's next sequence number in the same transaction that stores it, and is
//! written to the room's event log with the payload of its live event, so `sync`
//! reads the log and a client catches up exactly.
//!
//! Layout: `store.rs` is the [`Store`] trait and `types.rs` its inputs and
//! outputs (both re-exported here); `sql/` holds every statement once,
//! compiled into both backends (`sqlite.rs`, `postgres.rs`, which add only
//! pools and migrations); `rows/` maps rows to the wire objects and builds
//! the logged payloads; `error.rs` is the one place database errors become
//! [`natter_core::Error`]s.

mod error;
mod postgres;
mod rows;
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use store::Store;
pub use types::{
    AroundPage, Catchup, Change, Credentials, NewMessage, NewPushSubscription, NewRoom, NewSession,
    NewUpload, NewUser, Notified, OnStored, Page, PageAt, Posted, PushSubscription,
    ReactionsChanged, RoomPatch, SearchPage, SearchRequest, StoredSession, Upload,
    MAX_REACTIONS_PER_USER,
};

use natter_core::Result;
use time::OffsetDateTime;

pub use natter_core;

/// Opens the store at `url` and brings its schema up to date: SQLite for
/// `sqlite:path` / `sqlite://path` (the file and its folder are created if
/// missing), PostgreSQL for `postgres://…` / `postgresql://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(natter_core::Error::invalid(
            "DATABASE_URL must start with sqlite:, postgres:// or postgresql://",
        ))
    }
}

/// Runs the pending migrations of the store at `url` and closes it (for
/// `natter migrate`).
pub async fn migrate(url: &str) -> Result<()> {
    connect(url).await.map(drop)
}

/// For stores: "now", truncated to microseconds so both backends round-trip it.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::now;

    /// Both backends keep microseconds: a finer "now" would not read back equal.
    #[test]
    fn now_is_whole_microseconds() {
        for _ in 0..100 {
            assert_eq!(now().nanosecond() % 1_000, 0);
        }
    }
}
