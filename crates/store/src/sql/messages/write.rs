//! The write path of stored messages: edits, deletes and reaction toggles,
//! each under the room's next seq, logged and redacted in one transaction.

use natter_core::search;
use natter_core::{Error, Id, Message, Result};

use super::super::{redact, Conn, Pools};
use super::log::{log, next_seq};
use super::read::get_existing;
use crate::error::db_err;
use crate::rows::{group_reactions, mention_rows, LoggedEvent};
use crate::{now, Change, ReactionsChanged};

/// Replaces nothing: callers clear a message's mentions first when editing.
pub(crate) async fn insert_mentions(
    c: &mut Conn,
    message: i64,
    room: i64,
    seq: i64,
    users: &[Id],
) -> Result<()> {
    for row in mention_rows(message, users) {
        sqlx::query(
            "INSERT INTO message_mentions (message_id, room_id, user_id, seq) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(message)
        .bind(room)
        .bind(row.user_id)
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

pub(crate) async fn edit(
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
    redact::rewrite(&mut tx, &message).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Change {
        value: message,
        event_seq,
    })
}

/// The tombstone keeps its place (seq), author and time; its content, file,
/// reactions and mentions go.
pub(crate) async fn delete(p: &Pools, id: Id) -> Result<Change<Message>> {
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
    redact::rewrite(&mut tx, &message).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(Change {
        value: message,
        event_seq,
    })
}

/// A reaction's own seq is the event seq of the toggle that added it, which
/// orders the holders of an emoji as they reacted; its `emoji_seq` orders the
/// emojis (first reaction first, for as long as anyone holds it).
pub(crate) async fn toggle_reaction(
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
