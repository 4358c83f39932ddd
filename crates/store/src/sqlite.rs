//! The embedded default store: one SQLite file (by default `./data/natter.db`).
//!
//! SQLite allows one writer at a time. Writers share a pool of ONE
//! connection, so concurrent senders queue in the pool (in order, without
//! SQLITE_BUSY or a failed lock upgrade) while readers use their own pool and,
//! thanks to WAL, never wait for the writer.

use std::str::FromStr;
use std::time::Duration;

use natter_core::{Error, Result};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::db_err;

type Db = sqlx::Sqlite;
type Backend = SqliteStore;

// Intentional: the same SQL compiled once per backend (see `sql/mod.rs`).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How many connections serve reads.
const READERS: u32 = 4;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pools: sql::Pools,
    /// `post_message` goes through group commit (`sql/batch.rs`).
    posts: sql::GroupWriter,
    /// Keeps the search index upkeep running (`sql/search/index.rs`); it stops when
    /// the last clone of the store is dropped.
    _upkeep: tokio::sync::mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating the file and its folder if missing) and migrates the
    /// database at `url` (`sqlite:path`, `sqlite://path`, or
    /// `sqlite::memory:` for a throw-away one).
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db_err)?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A message is acknowledged only once durable: FULL syncs the WAL
            // at every commit.
            .synchronous(SqliteSynchronous::Full);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if in_memory {
            // One connection kept open forever: the database lives as long as it.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(db_err)?;
            migrate(&pool).await?;
            let pools = sql::Pools {
                read: pool.clone(),
                write: pool,
            };
            sql::search_backfill(&pools).await?;
            return Ok(SqliteStore::with(pools));
        }
        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = options.journal_mode(SqliteJournalMode::Wal);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(db_err)?;
        migrate(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            // Readers can never write by mistake (and so never contend).
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(db_err)?;
        let pools = sql::Pools { read, write };
        sql::search_backfill(&pools).await?;
        Ok(SqliteStore::with(pools))
    }

    /// One group-commit writer: SQLite has one writer at a time anyway, and
    /// it shares the single write connection with every other write.
    fn with(pools: sql::Pools) -> Self {
        let posts = sql::GroupWriter::start(&pools, 1);
        let (upkeep, stop) = tokio::sync::mpsc::channel(1);
        sql::start_search_upkeep(&pools, stop);
        SqliteStore {
            pools,
            posts,
            _upkeep: upkeep,
        }
    }
}

async fn migrate(pool: &sqlx::SqlitePool) -> Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| Error::internal(format!("sqlite migrations: {e}")))
}

/// A fresh database of this backend, for the unit tests of `sql/`.
#[cfg(all(test, feature = "testing"))]
async fn test_db() -> crate::testing::TestDb {
    crate::testing::TestDb::sqlite().await
}
