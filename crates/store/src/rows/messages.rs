//! Message rows (with author and quoted reply joined) and their assembly,
//! with reactions and mentions fetched in bulk, into wire [`Message`]s.

use std::collections::HashMap;

use natter_core::{Id, Message, MessageType, Reaction, ReplyTo, ReplyUser, User};
use time::OffsetDateTime;

use crate::error::bad_row;
use crate::Result;

/// A message with its author and the message it replies to, joined.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: i64,
    pub room_id: i64,
    pub user_id: i64,
    pub seq: i64,
    pub content: String,
    pub kind: String,
    pub file_url: Option<String>,
    pub reply_to_id: Option<i64>,
    pub client_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub deleted_at: Option<OffsetDateTime>,
    pub username: String,
    pub user_name: String,
    pub avatar: Option<String>,
    /// A deleted message's content is already "" in the table.
    pub reply_content: Option<String>,
    pub reply_username: Option<String>,
}

/// One holder of one emoji, read in the order they reacted.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReactionRow {
    pub message_id: i64,
    pub emoji: String,
    pub user_id: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MentionRow {
    pub message_id: i64,
    pub user_id: i64,
}

/// The mention rows of a message: its distinct users in id order, as they
/// are stored and as `hydrate` reads them back.
pub(crate) fn mention_rows(message_id: i64, mentions: &[Id]) -> Vec<MentionRow> {
    let mut users = mentions.to_vec();
    users.sort();
    users.dedup();
    users
        .into_iter()
        .map(|u| MentionRow {
            message_id,
            user_id: u.0,
        })
        .collect()
}

/// Groups reaction rows by emoji, keeping the order they come in: the SQL
/// sorts them by `(emoji_seq, seq)`, so emojis come in first-reaction order
/// and each emoji's users in the order they reacted.
/// An emoji nobody holds has no rows, so it cannot appear.
pub(crate) fn group_reactions(rows: impl IntoIterator<Item = (String, i64)>) -> Vec<Reaction> {
    let mut out: Vec<Reaction> = Vec::new();
    for (emoji, user) in rows {
        match out.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => {
                r.user_ids.push(Id(user));
                r.count += 1;
            }
            None => out.push(Reaction {
                emoji,
                count: 1,
                user_ids: vec![Id(user)],
            }),
        }
    }
    out
}

/// Builds full messages from their rows plus the reactions and mentions of
/// those messages (fetched in bulk, in any grouping).
pub(crate) fn assemble(
    rows: Vec<MessageRow>,
    reactions: Vec<ReactionRow>,
    mentions: Vec<MentionRow>,
) -> Result<Vec<Message>> {
    let mut by_msg: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for r in reactions {
        by_msg
            .entry(r.message_id)
            .or_default()
            .push((r.emoji, r.user_id));
    }
    let mut mentioned: HashMap<i64, Vec<Id>> = HashMap::new();
    for m in mentions {
        mentioned
            .entry(m.message_id)
            .or_default()
            .push(Id(m.user_id));
    }
    rows.into_iter()
        .map(|row| {
            let reactions = group_reactions(by_msg.remove(&row.id).unwrap_or_default());
            let mentions = mentioned.remove(&row.id).unwrap_or_default();
            message(row, reactions, mentions)
        })
        .collect()
}

fn message(row: MessageRow, reactions: Vec<Reaction>, mentions: Vec<Id>) -> Result<Message> {
    let kind =
        MessageType::parse(&row.kind).ok_or_else(|| bad_row(format!("kind {:?}", row.kind)))?;
    let reply_to = match (row.reply_to_id, row.reply_content, row.reply_username) {
        (Some(id), Some(content), Some(username)) => Some(ReplyTo {
            id: Id(id),
            content,
            user: ReplyUser { username },
        }),
        _ => None,
    };
    Ok(Message {
        id: Id(row.id),
        room_id: Id(row.room_id),
        user_id: Id(row.user_id),
        seq: row.seq,
        content: row.content,
        kind,
        file_url: row.file_url,
        reply_to_id: row.reply_to_id.map(Id),
        reply_to,
        user: User {
            id: Id(row.user_id),
            username: row.username,
            name: row.user_name,
            avatar: row.avatar,
        },
        reactions,
        mentions,
        client_id: row.client_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        edited_at: row.edited_at,
        deleted_at: row.deleted_at,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reactions_group_in_first_reaction_order() {
        let rows = [("👍", 3), ("👍", 1), ("🎉", 1), ("🎉", 2)].map(|(e, u)| (e.to_owned(), u));
        let got = group_reactions(rows);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].emoji, "👍");
        assert_eq!(got[0].user_ids, vec![Id(3), Id(1)]);
        assert_eq!(got[1].count, 2);
    }

    fn row(id: i64, kind: &str, reply: Option<(&str, &str)>) -> MessageRow {
        MessageRow {
            id,
            room_id: 1,
            user_id: 2,
            seq: id,
            content: format!("m{id}"),
            kind: kind.into(),
            file_url: None,
            reply_to_id: reply.map(|_| 100),
            client_id: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            edited_at: None,
            deleted_at: None,
            username: "alice".into(),
            user_name: "Alice".into(),
            avatar: None,
            reply_content: reply.map(|(c, _)| c.into()),
            reply_username: reply.map(|(_, u)| u.into()),
        }
    }

    #[test]
    fn assembly_gives_each_message_its_own_reactions_and_mentions() {
        let rows = vec![row(10, "text", None), row(11, "text", Some(("hi", "bob")))];
        let reactions = [(11, "👍", 3), (10, "🎉", 4), (11, "👍", 5)]
            .map(|(message_id, emoji, user_id)| ReactionRow {
                message_id,
                emoji: emoji.into(),
                user_id,
            })
            .into();
        let mentions = vec![MentionRow {
            message_id: 10,
            user_id: 9,
        }];
        let got = assemble(rows, reactions, mentions).unwrap();
        assert_eq!(
            got.iter().map(|m| m.id).collect::<Vec<_>>(),
            [Id(10), Id(11)]
        );
        assert_eq!(got[0].reactions[0].emoji, "🎉");
        assert_eq!(got[0].mentions, [Id(9)]);
        assert_eq!(got[1].reactions[0].user_ids, [Id(3), Id(5)]);
        assert!(got[1].mentions.is_empty());
        let quote = got[1].reply_to.as_ref().unwrap();
        assert_eq!((quote.id, quote.content.as_str()), (Id(100), "hi"));
        assert_eq!(quote.user.username, "bob");
        assert!(got[0].reply_to.is_none());
    }

    #[test]
    fn mentions_are_distinct_and_in_id_order() {
        let rows = mention_rows(5, &[Id(9), Id(3), Id(9), Id(4)]);
        let got: Vec<(i64, i64)> = rows.iter().map(|r| (r.message_id, r.user_id)).collect();
        assert_eq!(got, [(5, 3), (5, 4), (5, 9)]);
        assert!(mention_rows(5, &[]).is_empty());
    }

    #[test]
    fn an_unknown_kind_is_an_unreadable_row() {
        let got = assemble(vec![row(1, "sticker", None)], Vec::new(), Vec::new());
        assert!(matches!(got, Err(natter_core::Error::Internal(_))));
    }
}
