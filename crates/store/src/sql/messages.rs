//! Messages and the room log: every change takes the room's next seq and is
//! logged with its live payload in the same transaction.

use natter_core::search;
use natter_core::{Error, Id, Message, Result};

use super::{clamp, Conn, Pools};
use crate::error::db_err;
use crate::rows::{
    assemble, group_reactions, logged, LoggedEvent, MentionRow, MessageRow, ReactionRow,
};
use crate::{now, Catchup, Change, Page, PageAt, ReactionsChanged};

/// A message with its author and the message it replies to.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.room_id, m.user_id, m.seq, m.content, m.kind, m.file_url, m.reply_to_id,
                m.client_id, m.created_at, m.updated_at, m.edited_at, m.deleted_at,
                u.username, u.name AS user_name, u.avatar,
                rm.content AS reply_content, ru.username AS reply_username
         FROM messages m
         JOIN users u ON u.id = m.user_id
         LEFT JOIN messages rm ON rm.id = m.reply_to_id
         LEFT JOIN users ru ON ru.id = rm.user_id"
    };
}
pub(super) use message_select;

/// Adds reactions and mentions to rows of ONE room, fetched in bulk over the
/// rows' seq range (an index range on `messages (room_id, seq)`).
async fn hydrate(c: &mut Conn, rows: Vec<MessageRow>) -> Result<Vec<Message>> {
    let (Some(first), Some(lo), Some(hi)) = (
        rows.first(),
        rows.iter().map(|r| r.seq).min(),
        rows.iter().map(|r| r.seq).max(),
    ) else {
        return Ok(Vec::new());
    };
    let room = first.room_id;
    debug_assert!(rows.iter().all(|r| r.room_id == room));
    let reactions: Vec<ReactionRow> = sqlx::query_as(
        "SELECT r.message_id, r.emoji, r.user_id
         FROM reactions r JOIN messages m ON m.id = r.message_id
         WHERE m.room_id = $1 AND m.seq BETWEEN $2 AND $3
         ORDER BY r.emoji_seq, r.seq",
    )
    .bind(room)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let mentions: Vec<MentionRow> = sqlx::query_as(
        "SELECT mm.message_id, mm.user_id
         FROM message_mentions mm JOIN messages m ON m.id = mm.message_id
         WHERE m.room_id = $1 AND m.seq BETWEEN $2 AND $3
         ORDER BY mm.message_id, mm.user_id",
    )
    .bind(room)
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    assemble(rows, reactions, mentions)
}

pub(super) async fn get(c: &mut Conn, id: Id) -> Result<Option<Message>> {
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(message_select!(), " WHERE m.id = $1"))
        .bind(id.0)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(hydrate(c, rows).await?.pop())
}

async fn get_existing(c: &mut Conn, id: Id) -> Result<Message> {
    get(c, id)
        .await?
        .ok_or_else(|| Error::not_found("message not found"))
}

/// Takes the room's next seq. On PostgreSQL the row lock this takes is held
/// until the transaction ends, which serializes the changes of one room (and
/// only that room), so seqs commit in order with no gaps and no repeats.
pub(super) async fn next_seq(c: &mut Conn, room: i64, activity: Option<i64>) -> Result<i64> {
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

pub(super) async fn log(c: &mut Conn, room: Id, event_seq: i64, e: LoggedEvent) -> Result<()> {
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

/// Replaces nothing: callers clear a message's mentions first when editing.
pub(super) async fn insert_mentions(
    c: &mut Conn,
    message: i64,
    room: i64,
    seq: i64,
    users: &[Id],
) -> Result<()> {
    let mut users = users.to_vec();
    users.sort();
    users.dedup();
    for user in users {
        sqlx::query(
            "INSERT INTO message_mentions (message_id, room_id, user_id, seq) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(message)
        .bind(room)
        .bind(user.0)
        .bind(seq)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// A message about to change, with the change's event seq taken.
struct Target {
    room: i64,
    /// The message's own place in the room.
    seq: i64,
    event_seq: i64,
}

/// Takes the next seq of the message's room for a change to that message
/// (on PostgreSQL this takes the room's lock), or `not_found`. A message that
/// is already a tombstone is answered with `deleted_err`: read under the lock,
/// so a concurrent delete is seen.
async fn change_message(c: &mut Conn, id: Id, deleted_err: Error) -> Result<Target> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT room_id, seq FROM messages WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    let (room, seq) = row.ok_or_else(|| Error::not_found("message not found"))?;
    let event_seq = next_seq(c, room, None).await?;
    let (deleted,): (bool,) =
        sqlx::query_as("SELECT deleted_at IS NOT NULL FROM messages WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut *c)
            .await
            .map_err(db_err)?;
    if deleted {
        return Err(deleted_err);
    }
    Ok(Target {
        room,
        seq,
        event_seq,
    })
}

/// Runs a statement whose only parameter is a message id.
async fn for_message(c: &mut Conn, sql: &str, id: Id) -> Result<u64> {
    let done = sqlx::query(sql)
        .bind(id.0)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

pub(super) async fn edit(
    p: &Pools,
    id: Id,
    content: String,
    mentions: Vec<Id>,
) -> Result<Change<Message>> {
    let mut tx = p.begin().await?;
    let deleted = Error::invalid("a deleted message cannot be edited");
    let Target {
        room,
        seq,
        event_seq,
    } = change_message(&mut tx, id, deleted).await?;
    let at = now();
    sqlx::query(
        "UPDATE messages SET content = $2, updated_at = $3, edited_at = $3, search_text = $4,
                has_link = $5
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(&content)
    .bind(at)
    .bind(search::index_text(&content))
    .bind(search::has_link(&content))
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    for_message(
        &mut tx,
        "DELETE FROM message_mentions WHERE message_id = $1",
        id,
    )
    .await?;
    insert_mentions(&mut tx, id.0, room, seq, &mentions).await?;
    let message = get_existing(&mut tx, id).await?;
    let logged = LoggedEvent::message_updated(&message, event_seq);
    log(&mut tx, Id(room), event_seq, logged).await?;
    super::redact::rewrite(&mut tx, &message).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Change {
        value: message,
        event_seq,
    })
}

/// The tombstone keeps its place (seq), author and time; its content, file,
/// reactions and mentions go.
pub(super) async fn delete(p: &Pools, id: Id) -> Result<Change<Message>> {
    let mut tx = p.begin().await?;
    let deleted = Error::not_found("message not found");
    let Target {
        room, event_seq, ..
    } = change_message(&mut tx, id, deleted).await?;
    let at = now();
    sqlx::query(
        "UPDATE messages SET content = '', file_url = NULL, deleted_at = $2, updated_at = $2,
                search_text = '', has_link = FALSE
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    for sql in [
        "DELETE FROM reactions WHERE message_id = $1",
        "DELETE FROM message_mentions WHERE message_id = $1",
    ] {
        for_message(&mut tx, sql, id).await?;
    }
    let message = get_existing(&mut tx, id).await?;
    log(
        &mut tx,
        Id(room),
        event_seq,
        LoggedEvent::deleted(&message, event_seq),
    )
    .await?;
    super::redact::rewrite(&mut tx, &message).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Change {
        value: message,
        event_seq,
    })
}

/// A reaction's own seq is the event seq of the toggle that added it, which
/// orders the holders of an emoji as they reacted; its `emoji_seq` orders the
/// emojis (first reaction first, for as long as anyone holds it).
pub(super) async fn toggle_reaction(
    p: &Pools,
    id: Id,
    user: Id,
    emoji: &str,
) -> Result<Change<ReactionsChanged>> {
    let mut tx = p.begin().await?;
    let deleted = Error::invalid("a deleted message cannot be reacted to");
    let Target {
        room, event_seq, ..
    } = change_message(&mut tx, id, deleted).await?;
    let removed =
        sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(id.0)
            .bind(user.0)
            .bind(emoji)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    if removed.rows_affected() == 0 {
        let (held,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM reactions WHERE message_id = $1 AND user_id = $2")
                .bind(id.0)
                .bind(user.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
        if held >= crate::MAX_REACTIONS_PER_USER {
            return Err(Error::invalid(format!(
                "at most {} different reactions per person on one message",
                crate::MAX_REACTIONS_PER_USER
            )));
        }
        sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, seq, emoji_seq, created_at)
             VALUES ($1, $2, $3, $4,
                     COALESCE((SELECT MIN(emoji_seq) FROM reactions WHERE message_id = $1 AND emoji = $3), $4),
                     $5)",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(emoji)
        .bind(event_seq)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT emoji, user_id FROM reactions WHERE message_id = $1 ORDER BY emoji_seq, seq",
    )
    .bind(id.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    let reactions = group_reactions(rows);
    log(
        &mut tx,
        Id(room),
        event_seq,
        LoggedEvent::reactions(id, Id(room), &reactions, event_seq),
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    let value = ReactionsChanged {
        message_id: id,
        room_id: Id(room),
        reactions,
    };
    Ok(Change { value, event_seq })
}

/// Keyset pages by seq. One row beyond the page is read to learn whether
/// more exist in the direction of travel.
pub(super) async fn history(p: &Pools, room: Id, at: PageAt, limit: u32) -> Result<Page> {
    let limit = clamp(limit, 100);
    let (sql, bound, backwards) = match at {
        PageAt::Newest => (BACKWARDS, i64::MAX, true),
        PageAt::Before(seq) => (BACKWARDS, seq, true),
        PageAt::After(seq) => (FORWARDS, seq, false),
    };
    let mut c = p.read().await?;
    let mut rows: Vec<MessageRow> = sqlx::query_as(sql)
        .bind(room.0)
        .bind(bound)
        .bind(limit + 1)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if backwards {
        rows.reverse();
    }
    Ok(Page {
        messages: hydrate(&mut c, rows).await?,
        has_more,
    })
}

const BACKWARDS: &str = concat!(
    message_select!(),
    " WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
);
const FORWARDS: &str = concat!(
    message_select!(),
    " WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3"
);

/// Reads at most `max + 1` events: one more than allowed means `Reset`.
pub(super) async fn events_after(p: &Pools, room: Id, after_seq: i64, max: u32) -> Result<Catchup> {
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
