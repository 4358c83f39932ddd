//! The socket door of catch-up: `sync`.

use natter_core::events::client::SyncPayload;
use natter_core::Result;
use serde_json::Value;

use crate::ack::{ok, ClientSocket, SyncBody};
use crate::app::AppState;

/// Every logged change of the caller's rooms after their cursors (`reset`
/// for a room too far behind).
pub async fn sync(app: &AppState, socket: &ClientSocket, p: SyncPayload) -> Result<Value> {
    let synced = app.sync(socket.state(), p.rooms).await?;
    ok(SyncBody {
        events: synced.events,
        reset: synced.reset,
    })
}
