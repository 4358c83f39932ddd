//! The socket door of push: `focus`, the room this socket shows (its user gets
//! no push for it meanwhile).

use natter_core::events::client::FocusPayload;
use natter_core::Result;
use serde_json::Value;

use crate::ack::{ok, ClientSocket, Empty};
use crate::app::AppState;
use crate::rooms::socket::hears;

pub async fn focus(app: &AppState, socket: &ClientSocket, p: FocusPayload) -> Result<Value> {
    if let Some(room) = p.room_id {
        // a room this socket hears, i.e. one its user is a member of
        hears(app, socket, room).await?;
    }
    app.push
        .focus
        .set(socket.state().user_id, socket.id(), p.room_id)
        .await;
    ok(Empty {})
}
