//! The raw Engine.IO v4 server: sessions, HTTP long-polling, WebSocket, the
//! polling → websocket upgrade, heartbeat, `maxPayload`, CORS. Usable on its own
//! (the `conformance` binary serves an echo with it); the Socket.IO layer is an
//! [`EioHandler`] on top.
//!
//! One task per connection (the *driver*): it owns the websocket (reading,
//! batching writes, heartbeat) or, for polling sessions, runs the heartbeat while
//! HTTP requests come and go. Every outbound packet goes through one queue per
//! connection, bounded by `outbound_limit_bytes`.
//!
//! Modules by concern:
//! - `config`: [`EioConfig`] and the open packet that announces it.
//! - `handler`: what the layer above sees: [`EioHandler`], [`Message`],
//!   [`CloseReason`], [`SendError`].
//! - `server`: [`EioServer`], the HTTP entry (routing, CORS, new sessions).
//! - `conn`: [`Conn`], one session's state and outbound queue.
//! - `heartbeat`: pings, pong deadlines and the application deadline.
//! - `driver`: the connection's task.
//! - `polling`, `websocket`, `upgrade`: the transports and the switch between them.
//! - `stream`: [`TrackedTcp`] and the upgraded websocket stream.
//! - `response`: the HTTP answers (errors, text, `101`).
//! - [`packet`], [`ws`]: the Engine.IO and RFC 6455 codecs.

mod config;
mod conn;
mod driver;
mod handler;
mod heartbeat;
pub mod packet;
mod polling;
mod response;
mod server;
mod stream;
mod upgrade;
mod websocket;
pub mod ws;

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use config::EioConfig;
pub use conn::Conn;
pub use handler::{CloseReason, EioHandler, Message, SendError};
pub use packet::Frame;
pub(crate) use server::new_id;
pub use server::EioServer;
pub use stream::TrackedTcp;

/// Locks, going on past a poisoned lock: the data behind every lock here stays
/// consistent between statements, and a panicking handler must not take the
/// whole connection (or server) down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisoned_locks_still_lock() {
        let m = std::sync::Arc::new(Mutex::new(1));
        let rw = std::sync::Arc::new(RwLock::new(2));
        let (m2, rw2) = (m.clone(), rw.clone());
        let joined = std::thread::spawn(move || {
            let _g = m2.lock();
            let _w = rw2.write();
            panic!("poison both");
        })
        .join();
        assert!(joined.is_err());
        assert!(m.is_poisoned() && rw.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
        *write(&rw) += 1;
        assert_eq!(*read(&rw), 3);
    }
}
