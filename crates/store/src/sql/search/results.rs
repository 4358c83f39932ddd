//! A page of search results made whole: the matches' messages, of any
//! rooms, with their reactions and mentions, in the order they were ranked.

use natter_core::{Id, Message, Result};

use super::super::messages::message_select;
use super::super::Conn;
use super::sql::Sql;
use crate::rows::{assemble, MentionRow, MessageRow, ReactionRow};

/// Full messages of `ids` (of any rooms), in that order.
pub(super) async fn by_ids(c: &mut Conn, ids: &[Id]) -> Result<Vec<Message>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::default();
    q.push(concat!(message_select!(), " WHERE m.id IN ("))
        .list(ids)
        .push(")");
    let rows: Vec<MessageRow> = q.fetch(c).await?;
    let mut q = Sql::default();
    q.push("SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (")
        .list(ids)
        .push(") ORDER BY message_id, emoji_seq, seq");
    let reactions: Vec<ReactionRow> = q.fetch(c).await?;
    let mut q = Sql::default();
    q.push("SELECT message_id, user_id FROM message_mentions WHERE message_id IN (")
        .list(ids)
        .push(") ORDER BY message_id, user_id");
    let mentions: Vec<MentionRow> = q.fetch(c).await?;
    let mut found = assemble(rows, reactions, mentions)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(i) = found.iter().position(|m| m.id == *id) {
            out.push(found.swap_remove(i));
        }
    }
    Ok(out)
}
