//! The socket door of messages: `message:send`, `message:edit`,
//! `message:delete`, `message:react` (the REST door is `http.rs`; both call
//! the same service).

use natter_core::events::client::{EditPayload, MessageRef, ReactPayload, SendPayload};
use natter_core::Result;
use serde_json::Value;

use super::service::SendMessage;
use crate::ack::{ok, ClientSocket, MessageBody};
use crate::app::AppState;

/// Stores the message (acked once durable).
pub async fn send(app: &AppState, socket: &ClientSocket, p: SendPayload) -> Result<Value> {
    let posted = app
        .send_message(
            socket.state(),
            SendMessage {
                room_id: p.room_id,
                content: p.content,
                reply_to_id: p.reply_to_id,
                kind: p.kind,
                file_url: p.file_url,
                client_id: p.client_id,
            },
        )
        .await?;
    ok(MessageBody {
        message: posted.message,
    })
}

pub async fn edit(app: &AppState, socket: &ClientSocket, p: EditPayload) -> Result<Value> {
    let message = app
        .edit_message(socket.state(), p.message_id, p.content)
        .await?;
    ok(MessageBody { message })
}

pub async fn delete(app: &AppState, socket: &ClientSocket, p: MessageRef) -> Result<Value> {
    let message = app.delete_message(socket.state(), p.message_id).await?;
    ok(MessageBody { message })
}

pub async fn react(app: &AppState, socket: &ClientSocket, p: ReactPayload) -> Result<Value> {
    ok(app.react(socket.state(), p.message_id, &p.emoji).await?)
}
