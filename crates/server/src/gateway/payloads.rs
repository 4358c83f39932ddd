//! Shapes of client event payloads and of the acks' bodies (their TypeScript is
//! generated for the web UI: scripts/contract.sh).

use std::collections::BTreeMap;

use natter_core::{Id, Message, MessageType, RoomEvent};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct RoomRef {
    pub room_id: Id,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    pub message_id: Id,
}

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct EditPayload {
    pub message_id: Id,
    pub content: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ReactPayload {
    pub message_id: Id,
    pub emoji: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[serde(rename_all = "camelCase")]
pub struct DmPayload {
    pub recipient_id: Id,
    pub content: String,
    pub client_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct SyncPayload {
    pub rooms: BTreeMap<Id, i64>,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = "MessageAck"))]
pub struct MessageBody {
    pub message: Message,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = "SyncAck"))]
pub struct SyncBody {
    pub events: Vec<RoomEvent>,
    pub reset: Vec<Id>,
}

#[derive(Debug, Serialize)]
pub struct ErrorEvent {
    pub message: String,
    pub code: &'static str,
}

/// `focus`: the room this socket shows, visible and focused, or `null`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct FocusPayload {
    pub room_id: Option<Id>,
}
