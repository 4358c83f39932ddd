//! Throw-away databases for tests (feature `testing`): each test gets its own
//! SQLite file or PostgreSQL database, so tests run in parallel, and dropping
//! the [`TestDb`] removes it, so they leave nothing behind.

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, PgConnection};

/// The PostgreSQL server tests create databases on (any database on it will
/// do to connect to); overridden by `NATTER_TEST_PG_ADMIN`.
pub const DEFAULT_PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh, empty (not yet migrated) database; `url` is what to connect to.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    File(PathBuf),
    Database { admin: String, name: String },
}

/// A name no other test (in this process or another) is using.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt = RandomState::new().hash_one((std::process::id(), n, std::time::SystemTime::now()));
    format!("{:x}_{n}", salt & 0xffff_ffff_ffff)
}

impl TestDb {
    /// A new SQLite file in the system temp folder.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("natter_t_{}.db", unique_name()));
        TestDb {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::File(path),
        }
    }

    /// A new database on the server of `NATTER_TEST_PG_ADMIN` (default
    /// [`DEFAULT_PG_ADMIN`]). Panics if that server cannot be reached: a
    /// PostgreSQL test that cannot run must fail, not pass.
    pub async fn postgres() -> TestDb {
        let admin =
            std::env::var("NATTER_TEST_PG_ADMIN").unwrap_or_else(|_| DEFAULT_PG_ADMIN.to_owned());
        let name = format!("natter_t_{}", unique_name());
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at {admin} (set NATTER_TEST_PG_ADMIN): {e}")
        });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        TestDb {
            url: with_database(&admin, &name),
            cleanup: Cleanup::Database { admin, name },
        }
    }
}

/// `admin` with its database name replaced by `name` (query string kept).
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Database { admin, name } => {
                // Drop may run inside a Tokio runtime (a `#[tokio::test]`),
                // which cannot be blocked on: do the async work on a thread
                // with its own small runtime and wait for it.
                let (admin, db) = (admin.clone(), name.clone());
                let done = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let mut conn = PgConnection::connect(&admin).await?;
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await?;
                        conn.close().await
                    })
                    .map_err(std::io::Error::other)
                })
                .join();
                if !matches!(done, Ok(Ok(()))) {
                    eprintln!("warning: could not drop test database {name}: {done:?}");
                }
            }
        }
    }
}

/// One user, alice, and a public room of hers ("general"): `(user, room)`.
#[allow(clippy::unwrap_used)]
pub async fn user_with_room(s: &dyn crate::Store) -> (natter_core::Id, natter_core::Id) {
    let me = s
        .create_user(crate::NewUser {
            email: "a@example.com".into(),
            username: "alice".into(),
            name: "Alice".into(),
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    let room = s
        .create_room(crate::NewRoom {
            name: "general".into(),
            description: String::new(),
            is_private: false,
            created_by: me.user.id,
        })
        .await
        .unwrap();
    (me.user.id, room.id)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn test_urls_keep_the_server() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
