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
            $( $(#[$vdoc:meta])* $Variant:ident($Payload:ty) = $wire:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = $ts))]
        #[serde(tag = "event", content = "data")]
        pub enum $Enum {
            $( $(#[$vdoc])* #[serde(rename = $wire)] $Variant($Payload), )*
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

            /// `(variant, wire name, TypeScript type of the payload)` for the
            /// UI's generated event map.
            #[cfg(feature = "ts")]
            pub fn ts_table() -> Vec<(&'static str, &'static str, String)> {
                vec![$( (stringify!($Variant), $wire, <$Payload as ts_rs::TS>::name(&ts_rs::Config::from_env())), )*]
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

/// An event's payload without its name (see [`ServerEvent::data`]).
pub struct Data<'a, E>(&'a E);

events! {
    /// Events a client sends.
    pub enum ClientEvent / ClientEventName as "TaggedClientEvent" {
        RoomJoin(RoomRef) = "room:join",
        RoomLeave(RoomRef) = "room:leave",
        MessageSend(SendPayload) = "message:send",
        MessageEdit(EditPayload) = "message:edit",
        MessageDelete(MessageRef) = "message:delete",
        TypingStart(RoomRef) = "typing:start",
        TypingStop(RoomRef) = "typing:stop",
        MessageReact(ReactPayload) = "message:react",
        MessageRead(MessageRef) = "message:read",
        DmSend(DmPayload) = "dm:send",
        Sync(SyncPayload) = "sync",
        /// Which room this socket shows, visible and focused (`null`: none), so
        /// its user is not pushed that room's messages.
        Focus(FocusPayload) = "focus",
    }
}

events! {
    /// Events the server sends.
    pub enum ServerEvent / ServerEventName as "TaggedServerEvent" {
        MessageNew(MessageChange) = "message:new",
        MessageUpdated(MessageChange) = "message:updated",
        MessageDeleted(MessageDeleted) = "message:deleted",
        MessageReactions(MessageReactions) = "message:reactions",
        MessageRead(MessageRead) = "message:read",
        TypingStart(TypingStart) = "typing:start",
        TypingStop(TypingStop) = "typing:stop",
        UserOnline(UserOnline) = "user:online",
        UserOffline(UserOffline) = "user:offline",
        RoomJoined(RoomJoined) = "room:joined",
        RoomUserJoined(RoomUser) = "room:user-joined",
        RoomUserLeft(RoomUser) = "room:user-left",
        /// A room's name, description or privacy changed (logged: `sync` replays it).
        RoomUpdated(RoomUpdated) = "room:updated",
        DmNew(Message) = "dm:new",
        UnreadUpdate(UnreadCounts) = "unread:update",
        Notification(Notification) = "notification",
        /// What went wrong with an event sent without an ack.
        Error(ErrorBody) = "error",
    }
}

#[cfg(test)]
mod tests;
