//! SQLite's writes of a batch: in-process statements are cheap, so the
//! messages, mentions, cursors and events are a multi-row statement each
//! (in chunks under the bind limit).

use std::collections::HashMap;

use natter_core::search;
use natter_core::{Error, Result};
use sqlx::QueryBuilder;

use super::super::{Conn, Db};
use super::{Cursor, Mention, Stored, MAX_BINDS};
use crate::error::db_err;
use crate::rows::LoggedEvent;
use crate::{now, NewMessage};

/// Everything of the new messages after their rows: mentions, the senders'
/// cursors, then the `message:new` events.
pub(super) async fn write(
    c: &mut Conn,
    stored: &[Stored],
    mentions: &[Mention],
    cursors: &[Cursor],
) -> Result<()> {
    insert_mentions(c, mentions).await?;
    move_cursors(c, cursors).await?;
    log_new(c, stored).await
}

/// Eleven binds a message.
const MESSAGE_BINDS: usize = 11;

/// Inserts the new messages; message index → id.
pub(super) async fn insert_messages(
    c: &mut Conn,
    msgs: &[NewMessage],
    new: &[usize],
    seqs: &HashMap<usize, i64>,
    at: time::OffsetDateTime,
) -> Result<HashMap<usize, i64>> {
    let mut ids = HashMap::with_capacity(new.len());
    for chunk in new.chunks(MAX_BINDS / MESSAGE_BINDS) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO messages (room_id, user_id, seq, content, kind, file_url, reply_to_id,
                                   client_id, created_at, updated_at, search_text, has_link) ",
        );
        q.push_values(chunk, |mut row, &i| {
            let m = &msgs[i];
            row.push_bind(m.room_id.0)
                .push_bind(m.user_id.0)
                .push_bind(seqs.get(&i).copied().unwrap_or_default())
                .push_bind(m.content.clone())
                .push_bind(m.kind.as_str())
                .push_bind(m.file_url.clone())
                .push_bind(m.reply_to_id.map(|r| r.0))
                .push_bind(m.client_id.clone())
                .push_bind(at)
                .push_bind(at)
                // Indexed for search in this same statement (sql/search/).
                .push_bind(search::index_text(&m.content))
                .push_bind(search::has_link(&m.content));
        });
        q.push(" RETURNING id, room_id, seq");
        let rows: Vec<(i64, i64, i64)> = q
            .build_query_as()
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        // RETURNING's order is not promised: match rows by (room, seq).
        let by_place: HashMap<(i64, i64), i64> = rows
            .into_iter()
            .map(|(id, room, seq)| ((room, seq), id))
            .collect();
        for &i in chunk {
            let place = (msgs[i].room_id.0, seqs.get(&i).copied().unwrap_or_default());
            let id = by_place
                .get(&place)
                .ok_or_else(|| Error::internal("an inserted message was not returned"))?;
            ids.insert(i, *id);
        }
    }
    Ok(ids)
}

/// `(message, room, user, seq)` rows.
async fn insert_mentions(c: &mut Conn, rows: &[Mention]) -> Result<()> {
    for chunk in rows.chunks(MAX_BINDS / 4) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO message_mentions (message_id, room_id, user_id, seq) ",
        );
        q.push_values(chunk, |mut row, &(message, room, user, seq)| {
            row.push_bind(message)
                .push_bind(room)
                .push_bind(user)
                .push_bind(seq);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// Moves the cursors (only forward, as `reads::mark_read`).
async fn move_cursors(c: &mut Conn, rows: &[Cursor]) -> Result<()> {
    for chunk in rows.chunks(MAX_BINDS / 3) {
        // `VALUES` names its columns column1, column2, … on both databases.
        let mut q = QueryBuilder::<Db>::new("UPDATE members SET last_read_seq = v.column3 FROM (");
        q.push_values(chunk, |mut row, &(room, user, seq)| {
            row.push_bind(room).push_bind(user).push_bind(seq);
        });
        q.push(
            ") AS v WHERE members.room_id = v.column1 AND members.user_id = v.column2
               AND members.last_read_seq < v.column3",
        );
        q.build().execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// Six binds an event.
const EVENT_BINDS: usize = 6;

/// The `message:new` event of each stored message, with its exact payload.
async fn log_new(c: &mut Conn, stored: &[Stored]) -> Result<()> {
    let events = stored
        .iter()
        .map(|(_, m)| {
            let e = LoggedEvent::message_new(m);
            Ok((m, e.name(), e.data()?, e.message_id))
        })
        .collect::<Result<Vec<_>>>()?;
    let created = now();
    for chunk in events.chunks(MAX_BINDS / EVENT_BINDS) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO room_events (room_id, event_seq, event, data, created_at, message_id) ",
        );
        q.push_values(chunk, |mut row, (m, name, data, message_id)| {
            row.push_bind(m.room_id.0)
                .push_bind(m.seq)
                .push_bind(*name)
                .push_bind(data.clone())
                .push_bind(created)
                .push_bind(message_id.map(|m| m.0));
        });
        q.build().execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}
