//! The socket door of typing: `typing:start`, `typing:stop`.

use natter_core::events::client::RoomRef;
use natter_core::Result;
use serde_json::Value;

use crate::ack::{ok, ClientSocket, Empty};
use crate::app::AppState;
use crate::limits::Action;
use crate::rooms::socket::hears;

pub async fn start(app: &AppState, socket: &ClientSocket, p: RoomRef) -> Result<Value> {
    may_type(app, socket, &p).await?;
    app.typing_started(socket.state(), p.room_id);
    ok(Empty {})
}

pub async fn stop(app: &AppState, socket: &ClientSocket, p: RoomRef) -> Result<Value> {
    may_type(app, socket, &p).await?;
    app.typing_stopped(socket.state().user_id, p.room_id, true);
    ok(Empty {})
}

/// Typing is rate limited, and only sockets subscribed to the room
/// (members) may type in it.
async fn may_type(app: &AppState, socket: &ClientSocket, p: &RoomRef) -> Result<()> {
    app.limits.user(Action::Typing, socket.state().user_id)?;
    hears(app, socket, p.room_id).await
}
