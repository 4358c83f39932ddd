//! S7's loader: writes the corpus straight into the server's database (SQLite
//! or PostgreSQL) with the search columns the server would write, then
//! rebuilds the search index and reports its size.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{json, Value};
use sqlx::Connection;

use super::corpus::{content, Rng};
use crate::stats;

/// Rows per INSERT statement of the loader.
const ROWS_PER_INSERT: usize = 400;

fn day(secs: i64) -> String {
    // Days since the epoch → civil date (Howard Hinnant's algorithm), UTC.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One room to fill: its id and who writes in it.
pub(super) struct Target {
    pub(super) room: i64,
    pub(super) authors: Vec<i64>,
}

/// Inserts `per_room` messages into each room, newest ending now.
pub(super) async fn load(url: &str, targets: &[Target], per_room: u64) -> Result<Value> {
    let now = (stats::now_ns() / 1_000_000_000) as i64;
    let total = per_room * targets.len() as u64;
    // Spread over the last 30 days.
    let step = ((30 * 86_400) as u64 / total.max(1)).max(1) as i64;
    let base = now - step * total as i64;
    let pg = url.starts_with("postgres");
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut rows: Vec<(i64, i64, i64, String, i64)> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut n: u64 = 0;
    let mut last_report = Instant::now();
    let mut sqlite = None;
    let mut postgres = None;
    if pg {
        postgres = Some(
            sqlx::PgConnection::connect(url)
                .await
                .context("connecting")?,
        );
    } else {
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .busy_timeout(Duration::from_secs(60))
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        sqlite = Some(sqlx::SqliteConnection::connect_with(&opts).await?);
    }
    // Messages interleave over rooms, so times rise with ids as when sent live.
    for seq in 1..=per_room as i64 {
        for t in targets {
            let author = t.authors[rng.below(t.authors.len() as u64) as usize];
            let at = base + n as i64 * step;
            rows.push((t.room, author, seq, content(&mut rng, n), at));
            n += 1;
            if rows.len() == ROWS_PER_INSERT {
                insert(&mut sqlite, &mut postgres, &rows).await?;
                rows.clear();
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "  s7 load: {n}/{total} messages, {:.0} messages/s",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    if !rows.is_empty() {
        insert(&mut sqlite, &mut postgres, &rows).await?;
    }
    let activity = now * 1_000_000;
    let load_secs = started.elapsed().as_secs_f64();
    let mut report = json!({"messages": total, "load_seconds": load_secs, "rows_per_s": (total as f64 / load_secs).round()});
    // The same UPDATE on both stores; a macro, as the connections' types differ.
    macro_rules! mark_rooms {
        ($c:expr) => {
            for t in targets {
                sqlx::query("UPDATE rooms SET last_seq = $1, last_activity = $2 WHERE id = $3")
                    .bind(per_room as i64)
                    .bind(activity)
                    .bind(t.room)
                    .execute(&mut *$c)
                    .await?;
            }
        };
    }
    if let Some(c) = sqlite.as_mut() {
        mark_rooms!(c);
        let t = Instant::now();
        sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
            .execute(&mut *c)
            .await?;
        report["index_rebuild_seconds"] = json!(t.elapsed().as_secs_f64());
        // The rebuild leaves several segments; the server's upkeep merges them
        // into one in the background (sql/search.rs), as it does for a live
        // index: measure once it has, as a live server is most of the time.
        let t = Instant::now();
        let mut segments = i64::MAX;
        while segments > 1 && t.elapsed() < Duration::from_secs(600) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT DISTINCT segid FROM messages_fts_idx)",
            )
            .fetch_one(&mut *c)
            .await?;
            segments = n;
        }
        report["index_segments"] = json!(segments);
        report["index_upkeep_wait_seconds"] = json!(t.elapsed().as_secs_f64());
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *c)
            .await?;
        sqlx::query("ANALYZE").execute(&mut *c).await?;
        let size: Result<(i64,), _> =
            sqlx::query_as("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%'")
                .fetch_one(&mut *c)
                .await;
        report["index_bytes"] = size.map(|(s,)| json!(s)).unwrap_or(Value::Null);
        let (text,): (i64,) = sqlx::query_as("SELECT SUM(LENGTH(search_text)) FROM messages")
            .fetch_one(&mut *c)
            .await?;
        report["search_text_bytes"] = json!(text);
    }
    if let Some(c) = postgres.as_mut() {
        mark_rooms!(c);
        let t = Instant::now();
        sqlx::query("REINDEX INDEX messages_search")
            .execute(&mut *c)
            .await?;
        report["index_rebuild_seconds"] = json!(t.elapsed().as_secs_f64());
        sqlx::query("VACUUM ANALYZE messages")
            .execute(&mut *c)
            .await?;
        let (gin, tsv, text): (i64, i64, i64) = sqlx::query_as(
            "SELECT pg_relation_size('messages_search'),
                    COALESCE(SUM(pg_column_size(search_tsv)), 0)::bigint,
                    COALESCE(SUM(octet_length(search_text)), 0)::bigint
             FROM messages",
        )
        .fetch_one(&mut *c)
        .await?;
        report["index_bytes"] = json!(gin);
        report["tsvector_bytes"] = json!(tsv);
        report["search_text_bytes"] = json!(text);
    }
    Ok(report)
}

async fn insert(
    sqlite: &mut Option<sqlx::SqliteConnection>,
    postgres: &mut Option<sqlx::PgConnection>,
    rows: &[(i64, i64, i64, String, i64)],
) -> Result<()> {
    let pg = postgres.is_some();
    // Seven parameters per row: room, user, seq, content, time, tokens, has_link.
    let mut fixed = String::new();
    fixed.push_str(
        "INSERT INTO messages (room_id, user_id, seq, content, kind, created_at, updated_at, search_text, has_link) VALUES ",
    );
    for i in 0..rows.len() {
        let b = i * 7;
        if i > 0 {
            fixed.push_str(", ");
        }
        let time = if pg {
            format!("to_timestamp(${})", b + 5)
        } else {
            format!("${}", b + 5)
        };
        fixed.push_str(&format!(
            "(${}, ${}, ${}, ${}, 'text', {time}, {time}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 6,
            b + 7
        ));
    }
    macro_rules! bind_all {
        ($q:expr, $time:expr) => {{
            let mut q = $q;
            for (room, user, seq, text, at) in rows {
                q = q
                    .bind(*room)
                    .bind(*user)
                    .bind(*seq)
                    .bind(text.as_str())
                    .bind($time(*at))
                    .bind(natter_core::search::index_text(text))
                    .bind(natter_core::search::has_link(text));
            }
            q
        }};
    }
    if let Some(c) = postgres.as_mut() {
        bind_all!(sqlx::query::<sqlx::Postgres>(&fixed), |at: i64| at as f64)
            .execute(&mut *c)
            .await?;
    } else if let Some(c) = sqlite.as_mut() {
        bind_all!(sqlx::query::<sqlx::Sqlite>(&fixed), day)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_times_are_utc_civil_dates() {
        assert_eq!(day(0), "1970-01-01T00:00:00Z");
        assert_eq!(day(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(day(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(day(1_735_689_600 + 3_723), "2025-01-01T01:02:03Z");
        assert_eq!(day(-1), "1969-12-31T23:59:59Z");
    }
}
