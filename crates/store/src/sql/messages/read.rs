//! The read model of messages: the one `SELECT` of a message with its author
//! and quoted reply, and the bulk reads that make its rows whole.

use natter_core::{Error, Id, Message, Result};

use super::super::Conn;
use crate::error::db_err;
use crate::rows::{assemble, MentionRow, MessageRow, ReactionRow};

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
pub(crate) use message_select;

/// Adds reactions and mentions to rows of ONE room, fetched in bulk over the
/// rows' seq range (an index range on `messages (room_id, seq)`).
pub(super) async fn hydrate(c: &mut Conn, rows: Vec<MessageRow>) -> Result<Vec<Message>> {
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

pub(crate) async fn get(c: &mut Conn, id: Id) -> Result<Option<Message>> {
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(message_select!(), " WHERE m.id = $1"))
        .bind(id.0)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(hydrate(c, rows).await?.pop())
}

pub(super) async fn get_existing(c: &mut Conn, id: Id) -> Result<Message> {
    get(c, id)
        .await?
        .ok_or_else(|| Error::not_found("message not found"))
}
