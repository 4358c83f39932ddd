//! PostgreSQL's write of a batch: one statement, whose text is the same
//! whatever the batch.

use natter_core::search;
use natter_core::Result;
use serde_json::{json, Value};

use super::super::Conn;
use super::{Cursor, Mention, Stored};
use crate::error::db_err;
use crate::rows::LoggedEvent;
use crate::NewMessage;

/// PostgreSQL: the new messages (ids taken with their seqs), their mentions,
/// the senders' cursors and the `message:new` events in ONE statement. The
/// rows travel as JSON documents, so its text is the same for every batch
/// (prepared once per connection) and a batch of 200 costs one round trip.
/// The foreign keys of mentions and events are checked at the end of the
/// statement, when the messages are there.
pub(super) async fn write(
    c: &mut Conn,
    msgs: &[NewMessage],
    stored: &[Stored],
    mentions: &[Mention],
    cursors: &[Cursor],
    at: time::OffsetDateTime,
) -> Result<()> {
    let rows = stored
        .iter()
        .map(|(i, m)| {
            let new = &msgs[*i];
            let event = LoggedEvent::message_new(m);
            Ok(json!({
                "id": m.id.0, "room_id": new.room_id.0, "user_id": new.user_id.0, "seq": m.seq,
                "content": new.content, "kind": new.kind.as_str(), "file_url": new.file_url,
                "reply_to_id": new.reply_to_id.map(|r| r.0), "client_id": new.client_id,
                // Indexed for search in this same statement (sql/search/).
                "search_text": search::index_text(&new.content),
                "has_link": search::has_link(&new.content),
                "event": event.name(), "data": event.data()?,
            }))
        })
        .collect::<Result<Vec<Value>>>()?;
    let mentions: Vec<Value> = mentions
        .iter()
        .map(|&(message, room, user, seq)| {
            json!({"message_id": message, "room_id": room, "user_id": user, "seq": seq})
        })
        .collect();
    let cursor_rows: Vec<Value> = cursors
        .iter()
        .map(|&(room, user, seq)| json!({"room_id": room, "user_id": user, "seq": seq}))
        .collect();
    sqlx::query(
        "WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (
                 id BIGINT, room_id BIGINT, user_id BIGINT, seq BIGINT, content TEXT, kind TEXT,
                 file_url TEXT, reply_to_id BIGINT, client_id TEXT, search_text TEXT,
                 has_link BOOLEAN, event TEXT, data JSONB)
         ), m AS (
             INSERT INTO messages (id, room_id, user_id, seq, content, kind, file_url, reply_to_id,
                                   client_id, created_at, updated_at, search_text, has_link)
             SELECT id, room_id, user_id, seq, content, kind, file_url, reply_to_id, client_id,
                    $4, $4, search_text, has_link FROM x
         ), mm AS (
             INSERT INTO message_mentions (message_id, room_id, user_id, seq)
             SELECT * FROM jsonb_to_recordset($2::jsonb)
                 AS y (message_id BIGINT, room_id BIGINT, user_id BIGINT, seq BIGINT)
             ON CONFLICT DO NOTHING
         ), cur AS (
             -- LIMIT (the real count) only tells the planner these are a few
             -- rows (it assumes 100 of a recordset): a few primary-key lookups,
             -- not a hash join over a seq scan of every membership.
             UPDATE members SET last_read_seq = v.seq
             FROM (SELECT * FROM jsonb_to_recordset($3::jsonb)
                       AS v (room_id BIGINT, user_id BIGINT, seq BIGINT) LIMIT $5) AS v
             WHERE members.room_id = v.room_id AND members.user_id = v.user_id
               AND members.last_read_seq < v.seq
         )
         INSERT INTO room_events (room_id, event_seq, event, data, created_at, message_id)
         SELECT room_id, seq, event, data, $4, id FROM x",
    )
    .bind(Value::Array(rows))
    .bind(Value::Array(mentions))
    .bind(Value::Array(cursor_rows))
    .bind(at)
    .bind(i64::try_from(cursors.len()).unwrap_or(i64::MAX))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}
