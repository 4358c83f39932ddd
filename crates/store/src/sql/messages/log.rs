//! The room's seqs and event log: a change takes the next seq and logs its
//! live event; `sync` reads the log back after a seq.

use natter_core::{Error, Id, Result};

use super::super::{Conn, Pools};
use crate::error::db_err;
use crate::rows::{logged, LoggedEvent};
use crate::{now, Catchup};

/// Takes the room's next seq. On PostgreSQL the row lock this takes is held
/// until the transaction ends, which serializes the changes of one room (and
/// only that room), so seqs commit in order with no gaps and no repeats.
pub(crate) async fn next_seq(c: &mut Conn, room: i64, activity: Option<i64>) -> Result<i64> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE rooms SET last_seq = last_seq + 1, last_activity = COALESCE($2, last_activity)
         WHERE id = $1
         RETURNING last_seq",
    )
    .bind(room)
    .bind(activity)
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    row.map(|(s,)| s)
        .ok_or_else(|| Error::not_found("room not found"))
}

pub(crate) async fn log(c: &mut Conn, room: Id, event_seq: i64, e: LoggedEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO room_events (room_id, event_seq, event, data, created_at, message_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(room.0)
    .bind(event_seq)
    .bind(e.name())
    .bind(e.data()?)
    .bind(now())
    .bind(e.message_id.map(|m| m.0))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Reads at most `max + 1` events: one more than allowed means `Reset`.
pub(crate) async fn events_after(p: &Pools, room: Id, after_seq: i64, max: u32) -> Result<Catchup> {
    let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "SELECT event_seq, event, data FROM room_events
         WHERE room_id = $1 AND event_seq > $2
         ORDER BY event_seq
         LIMIT $3",
    )
    .bind(room.0)
    .bind(after_seq)
    .bind(i64::from(max) + 1)
    .fetch_all(&p.read)
    .await
    .map_err(db_err)?;
    if rows.len() as u64 > u64::from(max) {
        return Ok(Catchup::Reset);
    }
    let events = rows
        .iter()
        .map(|(event_seq, event, data)| logged(room, *event_seq, event, data))
        .collect::<Result<_>>()?;
    Ok(Catchup::Events(events))
}
