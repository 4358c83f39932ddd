//! The one explicit state of a node: configuration, store, realtime engine,
//! tokens, limits, presence. Services and doors reach everything through
//! `AppState`; what comes from outside (store, files, presence, clock, push
//! delivery, the engine's fan-out) sits behind a trait a test can swap
//! (`crate::Parts`). This module depends on no feature's service or door.

use std::ops::Deref;
use std::sync::Arc;

use natter_core::events::ServerEvent;
use natter_core::Id;
use natter_realtime::Engine;
use natter_store::Store;

use crate::auth::tokens::Tokens;
use crate::config::ServeArgs;
use crate::limits::RateLimits;
use crate::presence::Presence;

/// The namespace every Natter client uses.
pub const NS: &str = "/";

pub struct App {
    pub config: ServeArgs,
    pub store: Arc<dyn Store>,
    pub tokens: Tokens,
    pub passwords: crate::auth::passwords::Passwords,
    pub engine: Engine,
    pub limits: RateLimits,
    /// Who is online (in memory, or shared through Redis).
    pub presence: Arc<dyn Presence>,
    /// The time; a test may set it.
    pub clock: Arc<dyn crate::clock::Clock>,
    pub typing: crate::typing::Typing,
    /// Per-room ordering of live events (see `order`).
    pub room_locks: crate::order::RoomLocks,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// This node's link to the others (cluster mode, `REDIS_URL` set).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Web Push: VAPID key, focus, the sender's queue (`push/`).
    pub push: Arc<crate::push::Push>,
    /// Where uploaded bytes live (local folder or S3); a test may swap it.
    pub files: Arc<dyn crate::files::Files>,
    /// Upload limits and the image decode gate.
    pub uploads: crate::files::uploads::Uploads,
    /// Revocable sessions: the cache of checked sessions, socket expiries.
    pub sessions: crate::auth::sessions::SessionCache,
    /// `NATTER_TRUSTED_PROXIES`.
    pub trusted: crate::proxy::TrustedProxies,
}

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The engine room every socket of a room's members is in.
pub fn room_channel(room: Id) -> String {
    format!("room:{room}")
}

/// The engine room every socket of one user is in.
pub fn user_channel(user: Id) -> String {
    format!("user:{user}")
}

/// Sends an event to a broadcast's sockets (encoded once); a payload that
/// cannot be encoded is a bug, logged.
pub fn emit_to(to: natter_realtime::Broadcast, event: ServerEvent) {
    let name = event.name().as_str();
    if let Err(e) = to.emit(name, &event.data()) {
        tracing::error!(event = name, error = %e, "could not encode an event");
    }
}

/// Sends an event to one socket (its own `room:joined`, an `error`).
pub fn emit_socket<S: Send + Sync + 'static>(
    socket: &natter_realtime::Socket<S>,
    event: ServerEvent,
) -> Result<(), natter_realtime::EmitError> {
    socket.emit(event.name().as_str(), &event.data())
}

impl App {
    /// Broadcast to everyone subscribed to a room. Encoded once by the engine.
    pub fn emit_room(&self, room: Id, event: ServerEvent) {
        self.emit(self.engine.to(NS, &room_channel(room)), event);
    }

    /// Broadcast to every socket of one user.
    pub fn emit_user(&self, user: Id, event: ServerEvent) {
        self.emit(self.engine.to(NS, &user_channel(user)), event);
    }

    pub fn emit(&self, to: natter_realtime::Broadcast, event: ServerEvent) {
        emit_to(to, event);
    }

    /// Subscribe every open socket of `user` (on every node) to `room`.
    pub fn subscribe_user(&self, user: Id, room: Id) {
        self.engine
            .to(NS, &user_channel(user))
            .join(&[&room_channel(room)]);
    }

    pub fn unsubscribe_user(&self, user: Id, room: Id) {
        self.engine
            .to(NS, &user_channel(user))
            .leave(&[&room_channel(room)]);
    }
}
