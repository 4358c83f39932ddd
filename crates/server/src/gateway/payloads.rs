//! The bodies of the gateway's acks (their TypeScript is generated for the web
//! UI: scripts/contract.sh); the events' payloads are `natter_core::events`.

use natter_core::{Id, Message, RoomEvent};
use serde::Serialize;

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
