//! S6's bulk loader: writes messages straight into the server's database, in
//! the store's schema (crates/store/migrations/{sqlite,postgres}/0001_init.sql),
//! far faster than the API could. Rows are generated inside the database (a
//! recursive CTE on SQLite, `generate_series` on PostgreSQL), one statement per
//! room, many rooms per transaction.
//!
//! For each room it writes messages with seq 1..=n (one minute apart, ending
//! now), the `room_events` rows of the newest 500 of them (older ones are never
//! replayed: `sync` answers `reset` past 500 changes) with a `message:new`
//! payload of the contract's shape, and sets the room's `last_seq` and
//! `last_activity`. The rooms must be fresh (no message yet), as the
//! provisioning makes them.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sqlx::Connection;

/// Rooms written per transaction.
const ROOMS_PER_TX: usize = 20;
/// Newest changes per room kept in the event log (sync resets beyond 500).
const EVENTS_KEPT: u64 = 500;

const SQLITE_MESSAGES: &str = "
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?1)
INSERT INTO messages (room_id, user_id, seq, content, kind, created_at, updated_at)
SELECT ?2, ?3, n,
       'bulk ' || n || ' Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor',
       'text',
       strftime('%Y-%m-%dT%H:%M:%SZ', ?4 + n * 60, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%SZ', ?4 + n * 60, 'unixepoch')
FROM s";

/// The logged event of each bulk message (the name the server logs).
const MESSAGE_NEW: &str = natter_core::events::ServerEventName::MessageNew.as_str();

const SQLITE_EVENTS: &str = "
INSERT INTO room_events (room_id, event_seq, event, data, created_at)
SELECT m.room_id, m.seq, ?3,
       json_object('id', CAST(m.id AS TEXT), 'roomId', CAST(m.room_id AS TEXT),
                   'userId', CAST(m.user_id AS TEXT), 'seq', m.seq, 'content', m.content,
                   'type', 'text', 'fileUrl', NULL, 'replyToId', NULL, 'replyTo', NULL,
                   'user', json_object('id', CAST(u.id AS TEXT), 'username', u.username,
                                       'name', u.name, 'avatar', u.avatar),
                   'reactions', json_array(), 'mentions', json_array(),
                   'createdAt', m.created_at, 'updatedAt', m.updated_at, 'eventSeq', m.seq),
       m.created_at
FROM messages m JOIN users u ON u.id = m.user_id
WHERE m.room_id = ?1 AND m.seq > ?2";

const SQLITE_ROOM: &str =
    "UPDATE rooms SET last_seq = ?1, last_activity = ?2 WHERE id = ?3 AND last_seq = 0";

const PG_MESSAGES: &str = "
INSERT INTO messages (room_id, user_id, seq, content, kind, created_at, updated_at)
SELECT $2, $3, n,
       'bulk ' || n || ' Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor',
       'text', to_timestamp($4 + n * 60), to_timestamp($4 + n * 60)
FROM generate_series(1, $1::bigint) AS n";

const PG_EVENTS: &str = "
INSERT INTO room_events (room_id, event_seq, event, data, created_at)
SELECT m.room_id, m.seq, $3,
       jsonb_build_object('id', m.id::text, 'roomId', m.room_id::text, 'userId', m.user_id::text,
                          'seq', m.seq, 'content', m.content, 'type', 'text', 'fileUrl', NULL,
                          'replyToId', NULL, 'replyTo', NULL,
                          'user', jsonb_build_object('id', u.id::text, 'username', u.username,
                                                     'name', u.name, 'avatar', u.avatar),
                          'reactions', '[]'::jsonb, 'mentions', '[]'::jsonb,
                          'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                          'updatedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                          'eventSeq', m.seq),
       m.created_at
FROM messages m JOIN users u ON u.id = m.user_id
WHERE m.room_id = $1 AND m.seq > $2";

const PG_ROOM: &str =
    "UPDATE rooms SET last_seq = $1, last_activity = $2 WHERE id = $3 AND last_seq = 0";

fn ids(user: &str, rooms: &[String]) -> Result<(i64, Vec<i64>)> {
    let user: i64 = user
        .parse()
        .context("user ids must be integers (Natter's store)")?;
    let rooms = rooms
        .iter()
        .map(|r| {
            r.parse::<i64>()
                .context("room ids must be integers (Natter's store)")
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((user, rooms))
}

/// Loads `messages` messages spread evenly over `rooms`, written by `user`.
pub async fn load(url: &str, user: &str, rooms: &[String], messages: u64) -> Result<Value> {
    let (user, rooms) = ids(user, rooms)?;
    if rooms.is_empty() {
        bail!("no rooms to load");
    }
    let per_room = (messages / rooms.len() as u64) as i64;
    let now = crate::stats::now_ns() / 1_000_000_000;
    let base = now as i64 - per_room * 60 - 60;
    let activity_us = now as i64 * 1_000_000;
    let keep_after = (per_room - EVENTS_KEPT as i64).max(0);
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut done = 0usize;
    if url.starts_with("sqlite:") {
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .busy_timeout(Duration::from_secs(60))
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        let mut c = sqlx::SqliteConnection::connect_with(&opts)
            .await
            .context("opening the SQLite database")?;
        for batch in rooms.chunks(ROOMS_PER_TX) {
            let mut tx = c.begin().await?;
            for room in batch {
                let updated = sqlx::query(SQLITE_ROOM)
                    .bind(per_room)
                    .bind(activity_us)
                    .bind(room)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() != 1 {
                    bail!("room {room} is missing or already has messages");
                }
                sqlx::query(SQLITE_MESSAGES)
                    .bind(per_room)
                    .bind(room)
                    .bind(user)
                    .bind(base)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(SQLITE_EVENTS)
                    .bind(room)
                    .bind(keep_after)
                    .bind(MESSAGE_NEW)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done += batch.len();
            progress(&mut last_report, started, done, rooms.len(), per_room);
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await?;
        sqlx::query("ANALYZE").execute(&mut c).await?;
        c.close().await?;
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        for batch in rooms.chunks(ROOMS_PER_TX) {
            let mut tx = c.begin().await?;
            for room in batch {
                let updated = sqlx::query(PG_ROOM)
                    .bind(per_room)
                    .bind(activity_us)
                    .bind(room)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() != 1 {
                    bail!("room {room} is missing or already has messages");
                }
                sqlx::query(PG_MESSAGES)
                    .bind(per_room)
                    .bind(room)
                    .bind(user)
                    .bind(base as f64)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(PG_EVENTS)
                    .bind(room)
                    .bind(keep_after)
                    .bind(MESSAGE_NEW)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done += batch.len();
            progress(&mut last_report, started, done, rooms.len(), per_room);
        }
        sqlx::query("ANALYZE messages").execute(&mut c).await?;
        sqlx::query("ANALYZE room_events").execute(&mut c).await?;
        c.close().await?;
    } else {
        bail!("--database-url must be sqlite:… or postgres:…");
    }
    Ok(json!({"per_room": per_room, "events_kept_per_room": EVENTS_KEPT.min(per_room as u64)}))
}

fn progress(last: &mut Instant, started: Instant, done: usize, total: usize, per_room: i64) {
    if last.elapsed() > Duration::from_secs(10) || done == total {
        *last = Instant::now();
        let rows = done as f64 * per_room as f64;
        eprintln!(
            "  bulk: {done}/{total} rooms, {rows:.0} messages, {:.0} messages/s",
            rows / started.elapsed().as_secs_f64()
        );
    }
}
