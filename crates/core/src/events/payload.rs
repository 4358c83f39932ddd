//! Payloads of server events, so every sender builds them the same way (the
//! store logs room changes with these exact shapes for `sync`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Id, Message, Reaction, Room, User};

/// `message:new` and `message:updated`: the message plus the change's seq.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessageChange {
    #[serde(flatten)]
    pub message: Message,
    pub event_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessageDeleted {
    pub message_id: Id,
    pub room_id: Id,
    pub event_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessageReactions {
    pub message_id: Id,
    pub room_id: Id,
    pub reactions: Vec<Reaction>,
    pub event_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessageRead {
    pub message_id: Id,
    pub room_id: Id,
    pub user_id: Id,
    pub seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct TypingStart {
    pub user_id: Id,
    pub username: String,
    pub room_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct TypingStop {
    pub user_id: Id,
    pub room_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct UserOnline {
    pub user_id: Id,
    pub username: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct UserOffline {
    pub user_id: Id,
    pub username: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub last_seen: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomJoined {
    pub room: Room,
}

/// What `room:updated` tells of the room: the settings every member sees
/// alike (a `Room`'s viewer-specific fields, unread counts or role, are
/// not part of a broadcast).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomSettings {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub is_private: bool,
}

/// `room:updated {roomId, room, eventSeq}`: a room's name, description or
/// privacy changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomUpdated {
    pub room_id: Id,
    pub room: RoomSettings,
    pub event_seq: i64,
}

impl RoomUpdated {
    /// The event of the change that gave `room` its `last_seq`.
    pub fn of(room: &Room) -> Self {
        RoomUpdated {
            room_id: room.id,
            room: RoomSettings {
                id: room.id,
                name: room.name.clone(),
                description: room.description.clone(),
                is_private: room.is_private,
            },
            event_seq: room.last_seq,
        }
    }
}

/// `room:user-joined` and `room:user-left`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomUser {
    pub room_id: Id,
    pub user: User,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    Mention,
    Dm,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub kind: NotificationKind,
    pub room_id: Id,
    pub message: Message,
}
