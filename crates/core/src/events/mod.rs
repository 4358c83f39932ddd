//! The Socket.IO events of the wire contract, both directions, each variant
//! carrying its payload: `emit` takes a [`ServerEvent`], the gateway decodes a
//! [`ClientEvent`], the room log stores `ServerEvent`s. Each event's wire name
//! is spelled once, in the tables below.

pub mod client;
pub mod payload;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorBody, Message, Result, UnreadCounts};
use client::*;
use payload::*;

/// Declares a direction's events once: the payload-carrying enum (serde:
/// `{event, data}`, the shape `sync` returns), the enum of bare names with
/// their wire spelling, and the decoder from `(name, data)`.
macro_rules! events {
    (
        $(#[$doc:meta])*
        pub enum $Enum:ident / $Name:ident as $ts:literal {
            $( $(#[doc = $vdoc:literal])* $Variant:ident($Payload:ty) = $wire:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = $ts))]
        #[serde(tag = "event", content = "data")]
        pub enum $Enum {
            $( $(#[doc = $vdoc])* #[serde(rename = $wire)] $Variant($Payload), )*
        }

        /// The names alone (metrics labels, the bench, the UI's constants).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $Name {
            $( $Variant, )*
        }

        impl $Name {
            pub const ALL: &'static [$Name] = &[$( $Name::$Variant, )*];

            /// The wire name, e.g. `message:new`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $Name::$Variant => $wire, )*
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|e| e.as_str() == name)
            }

            /// Each event for the UI's generated event map and docs/EVENTS.md.
            #[cfg(feature = "ts")]
            pub fn ts_table() -> Vec<EventDoc> {
                let cfg = ts_rs::Config::from_env();
                vec![$( EventDoc {
                    variant: stringify!($Variant),
                    wire: $wire,
                    payload: <$Payload as ts_rs::TS>::name(&cfg),
                    shape: <$Payload as ts_rs::TS>::inline(&cfg),
                    doc: [$($vdoc),*].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "),
                }, )*]
            }
        }

        impl $Enum {
            pub fn name(&self) -> $Name {
                match self {
                    $( $Enum::$Variant(_) => $Name::$Variant, )*
                }
            }

            /// The payload alone, for the wire's `[name, payload]`.
            pub fn data(&self) -> Data<'_, $Enum> {
                Data(self)
            }

            /// The event called `name` with payload `data`: `not_found` for a
            /// name that is not one of these events, `invalid` (saying which
            /// field) for a payload that does not fit.
            pub fn decode(name: &str, data: &serde_json::Value) -> Result<Self> {
                let Some(kind) = $Name::parse(name) else {
                    return Err(Error::not_found(format!("unknown event '{name}'")));
                };
                let bad = |e: serde_json::Error| Error::invalid(format!("{name}: {e}"));
                Ok(match kind {
                    $( $Name::$Variant => $Enum::$Variant(<$Payload>::deserialize(data).map_err(bad)?), )*
                })
            }
        }

        impl Serialize for Data<'_, $Enum> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                match self.0 {
                    $( $Enum::$Variant(p) => p.serialize(s), )*
                }
            }
        }
    };
}

/// One event as the generated TypeScript and docs describe it.
#[cfg(feature = "ts")]
pub struct EventDoc {
    pub variant: &'static str,
    pub wire: &'static str,
    /// The payload's TypeScript type name, and its shape written out.
    pub payload: String,
    pub shape: String,
    /// The variant's doc comment: what the event does, who gets it.
    pub doc: String,
}

/// An event's payload without its name (see [`ServerEvent::data`]).
pub struct Data<'a, E>(&'a E);

events! {
    /// Events a client sends. Each answers its ack with `{ok: true, …}` or
    /// `{ok: false, error}`, or with an `error` event when sent without an ack.
    pub enum ClientEvent / ClientEventName as "TaggedClientEvent" {
        /// Subscribes this socket (a public room makes the caller a member first); this socket gets `room:joined`.
        RoomJoin(RoomRef) = "room:join",
        /// Unsubscribes this socket only (membership stays); the room gets `room:user-left`.
        RoomLeave(RoomRef) = "room:leave",
        /// Stores a message, acked once durable; the room gets `message:new`. A repeated `clientId` acks the first message.
        MessageSend(SendPayload) = "message:send",
        /// The author edits; the room gets `message:updated`.
        MessageEdit(EditPayload) = "message:edit",
        /// The author, a moderator or an admin deletes; the room gets `message:deleted`.
        MessageDelete(MessageRef) = "message:delete",
        /// The room's other sockets get `typing:start`; it expires 6 s after the last start.
        TypingStart(RoomRef) = "typing:start",
        /// The room's other sockets get `typing:stop`.
        TypingStop(RoomRef) = "typing:stop",
        /// Toggles the caller's emoji; the room gets `message:reactions`.
        MessageReact(ReactPayload) = "message:react",
        /// Moves the caller's read cursor (never back); the room gets `message:read`, the caller `unread:update`.
        MessageRead(MessageRef) = "message:read",
        /// A direct message: the pair's DM room, found or made; both users get `dm:new`.
        DmSend(DmPayload) = "dm:send",
        /// Every logged change of the given rooms after each `lastSeq` (or `reset`).
        Sync(SyncPayload) = "sync",
        /// Which room this socket shows, visible and focused (`null`: none), so
        /// its user is not pushed that room's messages.
        Focus(FocusPayload) = "focus",
    }
}

events! {
    /// Events the server sends. Room changes carry `eventSeq` and are logged,
    /// so `sync` replays them.
    pub enum ServerEvent / ServerEventName as "TaggedServerEvent" {
        /// To the room's sockets, the sender's included (logged).
        MessageNew(MessageChange) = "message:new",
        /// To the room, after an edit (logged).
        MessageUpdated(MessageChange) = "message:updated",
        /// To the room, after a delete (logged).
        MessageDeleted(MessageDeleted) = "message:deleted",
        /// To the room, after a reaction was toggled (logged).
        MessageReactions(MessageReactions) = "message:reactions",
        /// To the room, when a member's read cursor moved.
        MessageRead(MessageRead) = "message:read",
        /// To the room except the typist's sockets.
        TypingStart(TypingStart) = "typing:start",
        /// To the room except the typist's sockets.
        TypingStop(TypingStop) = "typing:stop",
        /// To everyone sharing a room with the user, when their first socket connects.
        UserOnline(UserOnline) = "user:online",
        /// To the same, when their last socket disconnects (or their node died).
        UserOffline(UserOffline) = "user:offline",
        /// To the socket that sent `room:join`.
        RoomJoined(RoomJoined) = "room:joined",
        /// To the room, for a new membership (join, invite).
        RoomUserJoined(RoomUser) = "room:user-joined",
        /// To the room: a socket's `room:leave`, a leave, a removal; when a membership ends, also to that user's sockets.
        RoomUserLeft(RoomUser) = "room:user-left",
        /// To the room: its name, description or privacy changed (logged).
        RoomUpdated(RoomUpdated) = "room:updated",
        /// To every socket of both users, after a `dm:send` stored a message.
        DmNew(Message) = "dm:new",
        /// To every socket of one user: their counts in a room changed.
        UnreadUpdate(UnreadCounts) = "unread:update",
        /// To a member a new message mentions, or the recipient of a `dm:send`.
        Notification(Notification) = "notification",
        /// To the socket whose event, sent without an ack, failed.
        Error(ErrorBody) = "error",
    }
}

#[cfg(test)]
mod tests;
