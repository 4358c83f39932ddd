//! The socket door of direct messages: `dm:send`.

use natter_core::events::client::DmPayload;
use natter_core::Result;
use serde_json::Value;

use crate::ack::{ok, ClientSocket, MessageBody};
use crate::app::AppState;

pub async fn send(app: &AppState, socket: &ClientSocket, p: DmPayload) -> Result<Value> {
    let posted = app
        .send_dm(socket.state(), p.recipient_id, p.content, p.client_id)
        .await?;
    ok(MessageBody {
        message: posted.message,
    })
}
