//! The socket door of read cursors: `message:read`.

use natter_core::events::client::MessageRef;
use natter_core::Result;
use serde_json::Value;

use crate::ack::{ok, ClientSocket};
use crate::app::AppState;

/// Moves the caller's cursor to this message; the receipt is the ack.
pub async fn read(app: &AppState, socket: &ClientSocket, p: MessageRef) -> Result<Value> {
    ok(app.mark_read(socket.state(), p.message_id).await?)
}
