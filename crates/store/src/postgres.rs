//! The scaled-out store: PostgreSQL, shared by every node.
//!
//! One pool serves reads and writes. Changes of one room serialize on the
//! room's row lock (taken by the seq increment), so rooms never wait for each
//! other.

use std::time::Duration;

use natter_core::{Error, Result};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::error::db_err;

type Db = sqlx::Postgres;
type Backend = PgStore;

// Intentional: the same SQL compiled once per backend (see `sql/mod.rs`).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per node.
const CONNECTIONS: u32 = 16;

/// Group-commit writers per node (each holds one of the connections while it
/// commits a batch; rooms are spread over them by id).
const WRITERS: usize = 4;

#[derive(Debug, Clone)]
pub struct PgStore {
    pools: sql::Pools,
    /// `post_message` goes through group commit (`sql/batch.rs`).
    posts: sql::GroupWriter,
}

impl PgStore {
    /// Connects to `url` (`postgres://…` / `postgresql://…`) and migrates.
    /// Several nodes may start at once: sqlx takes an advisory lock while
    /// migrating.
    pub async fn open(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            // Fail a request fast (a clear `Unavailable`) while the database
            // is down, rather than holding it for half a minute.
            .acquire_timeout(Duration::from_secs(2))
            .connect(url)
            .await
            .map_err(db_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| Error::internal(format!("postgres migrations: {e}")))?;
        let pools = sql::Pools {
            read: pool.clone(),
            write: pool,
        };
        sql::search_backfill(&pools).await?;
        let posts = sql::GroupWriter::start(&pools, WRITERS);
        // Nothing to keep up here (it returns at once): GIN's pending entries are
        // merged by autovacuum.
        let (_, stop) = tokio::sync::mpsc::channel(1);
        sql::start_search_upkeep(&pools, stop);
        Ok(PgStore { pools, posts })
    }
}

/// A fresh database of this backend, for the unit tests of `sql/`.
#[cfg(all(test, feature = "testing"))]
async fn test_db() -> crate::testing::TestDb {
    crate::testing::TestDb::postgres().await
}
