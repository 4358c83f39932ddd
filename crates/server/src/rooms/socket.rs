//! The socket door of rooms: `room:join`, `room:leave`, and whether a socket
//! hears a room (what typing and focus require).

use natter_core::events::client::RoomRef;
use natter_core::events::payload::RoomJoined;
use natter_core::events::ServerEvent;
use natter_core::{Error, Id, Result};
use serde_json::Value;

use crate::ack::{ok, ClientSocket, Empty};
use crate::app::{emit_socket, room_channel, AppState};

/// Joins (a public room, or one the caller is a member of) and subscribes
/// this socket; `room:joined` to it, the room as the ack.
pub async fn join(app: &AppState, socket: &ClientSocket, p: RoomRef) -> Result<Value> {
    let (room, _) = app.join_room(socket.state(), p.room_id).await?;
    socket.join(&room_channel(room.id));
    let joined = RoomJoined { room };
    emit_socket(socket, ServerEvent::RoomJoined(joined.clone())).map_err(Error::internal)?;
    ok(joined)
}

/// Stops this socket hearing the room (membership stays; `DELETE
/// /api/rooms/{id}/members/me` leaves for good), and tells the room.
pub async fn leave(app: &AppState, socket: &ClientSocket, p: RoomRef) -> Result<Value> {
    let channel = room_channel(p.room_id);
    app.stop_hearing(socket.state(), p.room_id, || socket.leave(&channel))
        .await?;
    ok(Empty {})
}

/// `Ok` if this socket is subscribed to `room`; else why not (`not_found`,
/// `forbidden` for a non-member, `forbidden` "join the room first").
pub async fn hears(app: &AppState, socket: &ClientSocket, room: Id) -> Result<()> {
    if socket.rooms().contains(&room_channel(room)) {
        return Ok(());
    }
    app.require_member(room, socket.state().user_id).await?;
    Err(Error::forbidden("join the room first"))
}
