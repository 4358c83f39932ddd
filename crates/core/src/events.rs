//! Socket.IO event names of the wire contract, in one place, both directions.
//! Call sites use these enums, never string literals.

/// Events a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    RoomJoin,
    RoomLeave,
    MessageSend,
    MessageEdit,
    MessageDelete,
    TypingStart,
    TypingStop,
    MessageReact,
    MessageRead,
    DmSend,
    Sync,
    /// Which room this socket shows, visible and focused (`null`: none), so
    /// its user is not pushed that room's messages.
    Focus,
}

impl ClientEvent {
    pub const ALL: [ClientEvent; 12] = [
        ClientEvent::RoomJoin,
        ClientEvent::RoomLeave,
        ClientEvent::MessageSend,
        ClientEvent::MessageEdit,
        ClientEvent::MessageDelete,
        ClientEvent::TypingStart,
        ClientEvent::TypingStop,
        ClientEvent::MessageReact,
        ClientEvent::MessageRead,
        ClientEvent::DmSend,
        ClientEvent::Sync,
        ClientEvent::Focus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ClientEvent::RoomJoin => "room:join",
            ClientEvent::RoomLeave => "room:leave",
            ClientEvent::MessageSend => "message:send",
            ClientEvent::MessageEdit => "message:edit",
            ClientEvent::MessageDelete => "message:delete",
            ClientEvent::TypingStart => "typing:start",
            ClientEvent::TypingStop => "typing:stop",
            ClientEvent::MessageReact => "message:react",
            ClientEvent::MessageRead => "message:read",
            ClientEvent::DmSend => "dm:send",
            ClientEvent::Sync => "sync",
            ClientEvent::Focus => "focus",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Events the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEvent {
    MessageNew,
    MessageUpdated,
    MessageDeleted,
    MessageReactions,
    MessageRead,
    TypingStart,
    TypingStop,
    UserOnline,
    UserOffline,
    RoomJoined,
    RoomUserJoined,
    RoomUserLeft,
    /// A room's name, description or privacy changed (logged: `sync` replays it).
    RoomUpdated,
    DmNew,
    UnreadUpdate,
    Notification,
    Error,
}

impl ServerEvent {
    pub const ALL: [ServerEvent; 17] = [
        ServerEvent::MessageNew,
        ServerEvent::MessageUpdated,
        ServerEvent::MessageDeleted,
        ServerEvent::MessageReactions,
        ServerEvent::MessageRead,
        ServerEvent::TypingStart,
        ServerEvent::TypingStop,
        ServerEvent::UserOnline,
        ServerEvent::UserOffline,
        ServerEvent::RoomJoined,
        ServerEvent::RoomUserJoined,
        ServerEvent::RoomUserLeft,
        ServerEvent::RoomUpdated,
        ServerEvent::DmNew,
        ServerEvent::UnreadUpdate,
        ServerEvent::Notification,
        ServerEvent::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerEvent::MessageNew => "message:new",
            ServerEvent::MessageUpdated => "message:updated",
            ServerEvent::MessageDeleted => "message:deleted",
            ServerEvent::MessageReactions => "message:reactions",
            ServerEvent::MessageRead => "message:read",
            ServerEvent::TypingStart => "typing:start",
            ServerEvent::TypingStop => "typing:stop",
            ServerEvent::UserOnline => "user:online",
            ServerEvent::UserOffline => "user:offline",
            ServerEvent::RoomJoined => "room:joined",
            ServerEvent::RoomUserJoined => "room:user-joined",
            ServerEvent::RoomUserLeft => "room:user-left",
            ServerEvent::RoomUpdated => "room:updated",
            ServerEvent::DmNew => "dm:new",
            ServerEvent::UnreadUpdate => "unread:update",
            ServerEvent::Notification => "notification",
            ServerEvent::Error => "error",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in ClientEvent::ALL {
            assert_eq!(ClientEvent::parse(e.name()), Some(e));
        }
        assert_eq!(ClientEvent::parse("nope"), None);
        let mut names: Vec<_> = ServerEvent::ALL.iter().map(|e| e.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            ServerEvent::ALL.len(),
            "every server event once"
        );
    }

    /// The event names for the web UI (`events.ts` beside ts-rs's types,
    /// written by `scripts/contract.sh`): the UI spells no event name itself.
    #[cfg(feature = "ts")]
    #[test]
    fn export_bindings_event_names() {
        use std::fmt::Write;
        fn object<E: std::fmt::Debug + Copy>(
            name: &str,
            all: &[E],
            wire: fn(E) -> &'static str,
        ) -> String {
            let mut out = format!("export const {name} = {{\n");
            for e in all {
                let _ = writeln!(out, "  {e:?}: '{}',", wire(*e));
            }
            out.push_str("} as const;\n");
            let _ = writeln!(
                out,
                "export type {name}Name = (typeof {name})[keyof typeof {name}];"
            );
            out
        }
        let text = format!(
            "// Generated from natter-core's `events.rs` by scripts/contract.sh. Do not edit.\n\n{}\n{}",
            object("ClientEvent", &ClientEvent::ALL, ClientEvent::name),
            object("ServerEvent", &ServerEvent::ALL, ServerEvent::name),
        );
        let dir = std::env::var("TS_RS_EXPORT_DIR").unwrap_or_else(|_| "bindings".to_owned());
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
        std::fs::write(format!("{dir}/events.ts"), text).unwrap_or_else(|e| panic!("{dir}: {e}"));
    }
}

/// Payloads of server events, so every sender builds them the same way (the
/// store logs room changes with these exact shapes for `sync`).
pub mod payload {
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
}
