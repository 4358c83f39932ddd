//! What the room log keeps of a message after it changed: `sync` replays the
//! logged payloads, so an edit or a delete rewrites the payloads of that
//! message (and the quotes in its replies) in the same transaction. Events
//! keep their seqs and names (a replaying client still sees `message:new`
//! then `message:deleted`); only the text, files and mentions that are gone
//! are gone from the log too.

use natter_core::events::{payload, ServerEventName};
use natter_core::{Message, Result};
use serde_json::Value;

use super::Conn;
use crate::error::db_err;

const MESSAGE_EVENTS: [ServerEventName; 2] =
    [ServerEventName::MessageNew, ServerEventName::MessageUpdated];

/// Rewrites every logged `message:new`/`message:updated` of `message` to its
/// current state (each keeping its `eventSeq`), and `replyTo.content` of the
/// logged replies to it.
pub(super) async fn rewrite(c: &mut Conn, message: &Message) -> Result<()> {
    let room = message.room_id.0;
    let own: Vec<(i64,)> = sqlx::query_as(
        "SELECT event_seq FROM room_events
         WHERE message_id = $1 AND room_id = $2 AND event IN ($3, $4)",
    )
    .bind(message.id.0)
    .bind(room)
    .bind(MESSAGE_EVENTS[0].as_str())
    .bind(MESSAGE_EVENTS[1].as_str())
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    for (event_seq,) in own {
        let data = serde_json::to_value(payload::MessageChange {
            message: message.clone(),
            event_seq,
        })
        .map_err(|e| natter_core::Error::internal(format!("payload: {e}")))?;
        set(c, room, event_seq, data).await?;
    }
    let replies: Vec<(i64, Value)> = sqlx::query_as(
        "SELECT e.event_seq, e.data FROM room_events e
         JOIN messages r ON r.id = e.message_id
         WHERE r.reply_to_id = $1 AND e.room_id = $2 AND e.event IN ($3, $4)",
    )
    .bind(message.id.0)
    .bind(room)
    .bind(MESSAGE_EVENTS[0].as_str())
    .bind(MESSAGE_EVENTS[1].as_str())
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    for (event_seq, mut data) in replies {
        if let Some(quote) = data.get_mut("replyTo").and_then(Value::as_object_mut) {
            quote.insert("content".into(), Value::String(message.content.clone()));
            set(c, room, event_seq, data).await?;
        }
    }
    Ok(())
}

async fn set(c: &mut Conn, room: i64, event_seq: i64, data: Value) -> Result<()> {
    sqlx::query("UPDATE room_events SET data = $3 WHERE room_id = $1 AND event_seq = $2")
        .bind(room)
        .bind(event_seq)
        .bind(data)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(())
}
