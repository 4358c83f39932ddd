//! The Socket.IO v5 layer: namespaces, sockets, rooms, acks and broadcasts, as an
//! [`EioHandler`](crate::eio::EioHandler) over the Engine.IO server.
//!
//! Modules by concern:
//! - `engine`: [`Engine`], the top object; `config`: [`EngineConfig`].
//! - `handler`: the application's [`Handler`] trait and its types.
//! - `conn`: a client connection: Engine.IO messages → packets → socket jobs.
//! - `namespace`: namespaces and their room index; `socket`: sockets, rooms,
//!   emitting to one; `worker`: running a socket's handlers in order.
//! - `acks`: acknowledgements both ways; `broadcast`: emitting to many.
//! - [`packet`]: the Socket.IO packet codec.

mod acks;
mod broadcast;
mod config;
mod conn;
mod engine;
mod handler;
mod namespace;
pub mod packet;
mod socket;
mod worker;

#[cfg(test)]
mod testing;

pub use acks::AckSender;
pub use broadcast::Broadcast;
pub use config::EngineConfig;
pub use engine::Engine;
pub use handler::{
    AckError, ConnectError, ConnectInfo, DisconnectReason, EmitError, Event, Handler,
};
pub use socket::{placeholder, Socket, SocketRef};
