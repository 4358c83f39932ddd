//! Payloads of client events: what each event a client sends must carry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Id, MessageType};

/// `room:join`, `room:leave`, `typing:start`, `typing:stop`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomRef {
    pub room_id: Id,
}

/// `message:delete`, `message:read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    pub message_id: Id,
}

/// `message:send`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct SendPayload {
    pub room_id: Id,
    pub content: String,
    pub reply_to_id: Option<Id>,
    #[serde(rename = "type")]
    pub kind: Option<MessageType>,
    pub file_url: Option<String>,
    pub client_id: Option<String>,
}

/// `message:edit`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct EditPayload {
    pub message_id: Id,
    pub content: String,
}

/// `message:react`: toggles the caller's `emoji` on a message.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ReactPayload {
    pub message_id: Id,
    pub emoji: String,
}

/// `dm:send`: a direct message, the DM room made on first use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct DmPayload {
    pub recipient_id: Id,
    pub content: String,
    pub client_id: Option<String>,
}

/// `sync`: the last `eventSeq` the client holds of each room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct SyncPayload {
    pub rooms: BTreeMap<Id, i64>,
}

/// `focus`: the room this socket shows, visible and focused, or `null`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct FocusPayload {
    pub room_id: Option<Id>,
}
