//! The store's input and output types: what callers hand to [`Store`](crate::Store)
//! methods and what they get back (re-exported at the crate root).

use natter_core::{Id, Me, Message, MessageType, RoomEvent};
use time::OffsetDateTime;

/// A new account. Email and username are already validated and lower-cased.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub name: String,
    pub password_hash: String,
}

/// What login needs: the user and their password hash.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub me: Me,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewRoom {
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub created_by: Id,
}

#[derive(Debug, Clone, Default)]
pub struct RoomPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_private: Option<bool>,
}

impl RoomPatch {
    /// Changes nothing: `Store::update_room` then takes no seq and logs no
    /// `room:updated`, and nothing is broadcast.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.is_private.is_none()
    }
}

/// A message to store. Content is validated; `mentions` are the ids of the
/// room members it mentions (resolved by the caller via
/// [`Store::resolve_mentions`](crate::Store::resolve_mentions)).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room_id: Id,
    pub user_id: Id,
    pub content: String,
    pub kind: MessageType,
    pub file_url: Option<String>,
    pub reply_to_id: Option<Id>,
    pub client_id: Option<String>,
    pub mentions: Vec<Id>,
}

impl NewMessage {
    /// A plain text message: no file, reply, client id or mentions.
    pub fn text(room_id: Id, user_id: Id, content: impl Into<String>) -> Self {
        NewMessage {
            room_id,
            user_id,
            content: content.into(),
            kind: MessageType::Text,
            file_url: None,
            reply_to_id: None,
            client_id: None,
            mentions: Vec::new(),
        }
    }
}

/// What runs once a new message is durable (`Store::post_message_then`).
/// It runs on the room's writer, so it should be quick and must not block:
/// a broadcast, not a query.
pub type OnStored = Box<dyn FnOnce(&Message) + Send>;

/// A new message as push sees it: whom does it notify?
#[derive(Debug, Clone, Copy)]
pub struct Notified<'a> {
    pub room: Id,
    pub author: Id,
    pub mentioned: &'a [Id],
}

/// The result of storing a message.
#[derive(Debug, Clone)]
pub struct Posted {
    pub message: Message,
    /// False when `client_id` matched an earlier message of the same user in the
    /// same room: nothing new was stored and `message` is that earlier one.
    pub created: bool,
}

/// A change that took a room's next seq.
#[derive(Debug, Clone)]
pub struct Change<T> {
    pub value: T,
    pub event_seq: i64,
}

/// The reactions of one message after a toggle.
#[derive(Debug, Clone)]
pub struct ReactionsChanged {
    pub message_id: Id,
    pub room_id: Id,
    pub reactions: Vec<natter_core::Reaction>,
}

/// A file stored into a room (its bytes are kept by the server's file store).
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub room_id: Id,
    pub user_id: Id,
    /// The uploader's file name, for `Content-Disposition` (already sanitised).
    pub name: String,
    /// Decided from the bytes, never from the name or the request's header.
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub has_thumbnail: bool,
    /// Where the bytes are in the file store (written before this row).
    pub storage_key: String,
    /// The bytes' sha-256 (hex), served as the ETag.
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: Id,
    pub room_id: Id,
    pub user_id: Id,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub has_thumbnail: bool,
    pub created_at: OffsetDateTime,
    /// The message that sent it; `None`: not sent yet (its uploader alone sees it).
    pub message_id: Option<Id>,
    /// Where the bytes are in the file store (thumbnail: `<key>.thumb`).
    pub storage_key: String,
    pub etag: String,
    /// Visible to nobody: its message was deleted, or its bytes are being removed.
    pub gone: bool,
}

/// One page of history.
#[derive(Debug, Clone)]
pub struct Page {
    /// Oldest first.
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// Which page of a room's history: keyset by `seq`, bounds exclusive.
#[derive(Debug, Clone, Copy)]
pub enum PageAt {
    /// The newest `limit` messages.
    Newest,
    /// The newest `limit` messages with seq < this.
    Before(i64),
    /// The oldest `limit` messages with seq > this.
    After(i64),
}

/// Changes of a room after a seq, for `sync`.
#[derive(Debug, Clone)]
pub enum Catchup {
    /// Every change after the given seq, oldest first.
    Events(Vec<RoomEvent>),
    /// More than the allowed number of changes: reload the newest page instead.
    Reset,
}

/// A browser's Web Push subscription: the push service's endpoint (RFC 8030)
/// and the keys to encrypt for it (RFC 8291), base64url as the browser gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: Id,
    pub user_id: Id,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: OffsetDateTime,
}

/// A subscription to store (already validated by the server).
#[derive(Debug, Clone)]
pub struct NewPushSubscription {
    pub user_id: Id,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A search, its names already resolved to ids by the caller.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Who searches: only rooms they are a member of are searched.
    pub user: Id,
    /// Only these rooms (still only those `user` is a member of); `None`: all.
    pub rooms: Option<Vec<Id>>,
    /// Only messages by these users; `None`: anyone.
    pub from: Option<Vec<Id>>,
    pub terms: Vec<natter_core::search::Term>,
    pub excluded: Vec<natter_core::search::Term>,
    pub has: Vec<natter_core::search::Has>,
    /// UTC days: created on or after `since`, before `until`.
    pub since: Option<time::Date>,
    pub until: Option<time::Date>,
    pub sort: natter_core::search::Sort,
    /// 1–50.
    pub limit: u32,
    pub cursor: Option<natter_core::search::Cursor>,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub messages: Vec<Message>,
    /// `None` when this page holds the last match.
    pub next: Option<natter_core::search::Cursor>,
}

/// History around one message, oldest first.
#[derive(Debug, Clone)]
pub struct AroundPage {
    pub messages: Vec<Message>,
    pub has_more_before: bool,
    pub has_more_after: bool,
}

/// At most this many different emojis per user on one message (`invalid` beyond).
pub const MAX_REACTIONS_PER_USER: i64 = 20;

/// A signed-in session (its id is the token's `sid` claim).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: Id,
    /// Unix seconds: the token's `exp`.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub user_id: Id,
    /// Unix seconds.
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use natter_core::{Id, MessageType};

    use super::{NewMessage, RoomPatch};

    #[test]
    fn a_patch_is_empty_only_without_any_field() {
        assert!(RoomPatch::default().is_empty());
        let named = RoomPatch {
            name: Some(String::new()),
            ..RoomPatch::default()
        };
        assert!(!named.is_empty());
        let described = RoomPatch {
            description: Some("d".into()),
            ..RoomPatch::default()
        };
        assert!(!described.is_empty());
        let private = RoomPatch {
            is_private: Some(false),
            ..RoomPatch::default()
        };
        assert!(!private.is_empty());
    }

    #[test]
    fn a_text_message_has_nothing_but_its_text() {
        let m = NewMessage::text(Id(1), Id(2), "hi");
        assert_eq!(
            (m.room_id, m.user_id, m.content.as_str()),
            (Id(1), Id(2), "hi")
        );
        assert_eq!(m.kind, MessageType::Text);
        assert!(m.file_url.is_none() && m.reply_to_id.is_none() && m.client_id.is_none());
        assert!(m.mentions.is_empty());
    }
}
