//! Natter's realtime engine: an Engine.IO 4 + Socket.IO 5 server, lean per
//! connection, lossless at connect, encode-once broadcast. Knows nothing of chat.
//!
//! - [`eio`]: the raw Engine.IO server (usable on its own).
//! - [`Engine`]: the Socket.IO layer and the API the rest of Natter uses
//!   (see `docs/REALTIME_API.md`).
//! - [`Fanout`]: the seam for cross-node broadcasts.

pub mod eio;
mod fanout;
mod sio;

pub use fanout::{Fanout, FanoutAction, FanoutOp, NoopFanout};
pub use sio::packet as sio_packet;
pub use sio::{
    placeholder, AckError, AckSender, Broadcast, ConnectError, ConnectInfo, DisconnectReason,
    EmitError, Engine, EngineConfig, Event, Handler, Socket, SocketRef,
};
