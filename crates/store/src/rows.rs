//! Rows as both backends read them, and their assembly into the wire objects.
//!
//! The row structs derive `FromRow` generically, so one definition serves
//! SQLite and PostgreSQL; everything here is plain Rust with no IO, which is
//! also where the event payloads of the room log are built, so the live event
//! and the logged one cannot differ.

use std::collections::HashMap;

use natter_core::events::{payload, ServerEvent};
use natter_core::{
    Id, Me, Member, Message, MessageType, NotificationLevel, Reaction, ReplyTo, ReplyUser, Role,
    Room, RoomEvent, User,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::bad_row;
use crate::{Credentials, Result};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub avatar: Option<String>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: Id(r.id),
            username: r.username,
            name: r.name,
            avatar: r.avatar,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MeRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub email: String,
    pub password_hash: String,
}

impl MeRow {
    pub fn me(self) -> Me {
        self.credentials().me
    }

    pub fn credentials(self) -> Credentials {
        Credentials {
            me: Me {
                user: self.user.into(),
                email: self.email,
            },
            password_hash: self.password_hash,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MemberRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub role: String,
    pub joined_at: OffsetDateTime,
    pub last_read_seq: i64,
}

impl MemberRow {
    pub fn member(self) -> Result<Member> {
        Ok(Member {
            user: self.user.into(),
            role: role(&self.role)?,
            online: false,
            last_seen: None,
            joined_at: self.joined_at,
            last_read_seq: self.last_read_seq,
        })
    }
}

/// A member's stored level, or their default for this kind of room.
pub(crate) fn notify_level(s: Option<&str>, is_direct: bool) -> Result<NotificationLevel> {
    match s {
        None => Ok(NotificationLevel::default_for(is_direct)),
        Some(s) => s
            .parse()
            .map_err(|_| bad_row(format!("notification level {s:?}"))),
    }
}

pub(crate) fn role(s: &str) -> Result<Role> {
    s.parse().map_err(|_| bad_row(format!("role {s:?}")))
}

/// A room with the viewer's membership columns (NULL/0 when not a member)
/// and, for a DM, the other person.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RoomRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub is_direct: bool,
    pub created_by: i64,
    pub created_at: OffsetDateTime,
    pub last_seq: i64,
    pub role: Option<String>,
    pub unread: i64,
    pub mentions: i64,
    pub member_count: i64,
    pub peer_id: Option<i64>,
    pub peer_username: Option<String>,
    pub peer_name: Option<String>,
    pub peer_avatar: Option<String>,
    /// NULL: the member's default for this kind of room.
    pub notify_level: Option<String>,
}

impl RoomRow {
    pub fn room(self) -> Result<Room> {
        let peer = match (
            self.is_direct,
            self.peer_id,
            self.peer_username,
            self.peer_name,
        ) {
            (true, Some(id), Some(username), Some(name)) => Some(User {
                id: Id(id),
                username,
                name,
                avatar: self.peer_avatar,
            }),
            _ => None,
        };
        Ok(Room {
            id: Id(self.id),
            // A DM has no name of its own: it is called after the other person.
            name: peer.as_ref().map_or(self.name, |p| p.name.clone()),
            description: self.description,
            is_private: self.is_private,
            is_direct: self.is_direct,
            created_by: Id(self.created_by),
            created_at: self.created_at,
            last_seq: self.last_seq,
            unread: self.unread,
            mentions: self.mentions,
            role: self.role.as_deref().map(role).transpose()?,
            member_count: self.member_count,
            notifications: notify_level(self.notify_level.as_deref(), self.is_direct)?,
            peer,
        })
    }
}

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

/// A room change as it goes into the room log: the live event itself (its
/// name and exactly its payload are what `sync` returns).
pub(crate) struct LoggedEvent {
    pub event: ServerEvent,
    /// The message the event is about (found again when it is edited or
    /// deleted); `None` for a change of the room itself.
    pub message_id: Option<Id>,
}

impl LoggedEvent {
    pub fn name(&self) -> &'static str {
        self.event.name().as_str()
    }

    /// The payload, as the `data` column keeps it.
    pub fn data(&self) -> Result<Value> {
        serde_json::to_value(self.event.data())
            .map_err(|e| natter_core::Error::internal(format!("payload: {e}")))
    }

    /// `message:new`: the message plus `eventSeq` (its own seq).
    pub fn message_new(message: &Message) -> Self {
        LoggedEvent {
            message_id: Some(message.id),
            event: ServerEvent::MessageNew(payload::MessageChange {
                message: message.clone(),
                event_seq: message.seq,
            }),
        }
    }

    /// `message:updated`: the edited message plus the edit's `eventSeq`.
    pub fn message_updated(message: &Message, event_seq: i64) -> Self {
        LoggedEvent {
            message_id: Some(message.id),
            event: ServerEvent::MessageUpdated(payload::MessageChange {
                message: message.clone(),
                event_seq,
            }),
        }
    }

    pub fn deleted(message: &Message, event_seq: i64) -> Self {
        LoggedEvent {
            message_id: Some(message.id),
            event: ServerEvent::MessageDeleted(payload::MessageDeleted {
                message_id: message.id,
                room_id: message.room_id,
                event_seq,
            }),
        }
    }

    pub fn reactions(message_id: Id, room_id: Id, reactions: &[Reaction], event_seq: i64) -> Self {
        LoggedEvent {
            message_id: Some(message_id),
            event: ServerEvent::MessageReactions(payload::MessageReactions {
                message_id,
                room_id,
                reactions: reactions.to_vec(),
                event_seq,
            }),
        }
    }

    /// `room:updated`: the settings of `room`, read after the change took
    /// its `last_seq`.
    pub fn room_updated(room: &natter_core::Room) -> Self {
        LoggedEvent {
            message_id: None,
            event: ServerEvent::RoomUpdated(payload::RoomUpdated::of(room)),
        }
    }
}

/// A logged event read back: its name and payload as stored.
pub(crate) fn logged(room_id: Id, event_seq: i64, name: &str, data: &Value) -> Result<RoomEvent> {
    let event = ServerEvent::decode(name, data)
        .map_err(|e| natter_core::Error::internal(format!("room log {event_seq}: {e}")))?;
    Ok(RoomEvent {
        event_seq,
        room_id,
        event,
    })
}

/// A `LIKE` pattern matching `query` anywhere, ignoring case: the query is
/// lower-cased (the SQL lower-cases the column) and its wildcards escaped
/// with `\` (the SQL says `ESCAPE '\'`).
pub(crate) fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Microseconds since the epoch: the room-list sort key, kept as an integer
/// so it sorts the same on both backends.
pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
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

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern(" A_b%\\ "), "%a\\_b\\%\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
