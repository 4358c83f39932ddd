//! Sockets: a client's presence in one namespace ([`SocketRef`], and
//! [`Socket`] with the application's state), its rooms, emitting to it, and
//! its life: connecting (what is emitted waits for the CONNECT answer),
//! connected, gone.

use std::any::Any;
use std::collections::VecDeque;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::acks::Acks;
use super::conn::EConn;
use super::handler::{DisconnectReason, EmitError};
use super::namespace::Namespace;
use super::packet;
use super::worker::Job;
use crate::eio::{lock, new_id, write, CloseReason, Frame};

pub(super) enum Phase {
    /// `connect` is running: what is sent waits here until the CONNECT answer.
    Connecting(Vec<Frame>),
    Connected,
    Closed,
}

pub(super) struct SockState {
    pub(super) phase: Phase,
    pub(super) rooms: Vec<Arc<str>>,
    /// What waits for the handler, in order (see `worker`).
    pub(super) jobs: VecDeque<Job>,
    /// A worker task runs this socket's jobs.
    pub(super) running: bool,
    /// This socket holds its connection's reading (its queue is full).
    pub(super) holding: bool,
    pub(super) acks: Acks,
    /// The application's state, once `connect` made it.
    pub(super) state: Option<Arc<dyn Any + Send + Sync>>,
}

pub(super) struct SocketInner {
    pub(super) id: Arc<str>,
    pub(super) ns: Arc<Namespace>,
    pub(super) conn: Arc<EConn>,
    pub(super) st: Mutex<SockState>,
}

/// A socket in a namespace. Cheap to clone.
#[derive(Clone)]
pub struct SocketRef {
    pub(super) inner: Arc<SocketInner>,
}

impl std::fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketRef")
            .field("id", &self.inner.id)
            .field("namespace", &self.inner.ns.path)
            .finish()
    }
}

/// A connected socket with its application state.
pub struct Socket<S> {
    socket: SocketRef,
    state: Arc<S>,
}

impl<S> Clone for Socket<S> {
    fn clone(&self) -> Self {
        Socket {
            socket: self.socket.clone(),
            state: self.state.clone(),
        }
    }
}

impl<S> Socket<S> {
    pub fn state(&self) -> &S {
        &self.state
    }

    pub fn socket_ref(&self) -> &SocketRef {
        &self.socket
    }
}

impl<S> Deref for Socket<S> {
    type Target = SocketRef;
    fn deref(&self) -> &SocketRef {
        &self.socket
    }
}

impl SocketRef {
    /// A new socket of `conn` in `ns`, connecting.
    pub(super) fn new(ns: Arc<Namespace>, conn: Arc<EConn>) -> SocketRef {
        SocketRef {
            inner: Arc::new(SocketInner {
                id: new_id(),
                ns,
                conn,
                st: Mutex::new(SockState {
                    phase: Phase::Connecting(Vec::new()),
                    rooms: Vec::new(),
                    jobs: VecDeque::new(),
                    running: false,
                    holding: false,
                    acks: Acks::default(),
                    state: None,
                }),
            }),
        }
    }

    /// The Socket.IO socket id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn namespace(&self) -> &str {
        &self.inner.ns.path
    }

    /// The Engine.IO session id of the underlying connection.
    pub fn engine_sid(&self) -> &str {
        self.inner.conn.sid()
    }

    /// `"websocket"` or `"polling"`.
    pub fn transport(&self) -> &'static str {
        self.inner.conn.transport()
    }

    pub fn join(&self, room: &str) {
        let mut st = lock(&self.inner.st);
        if matches!(st.phase, Phase::Closed) || st.rooms.iter().any(|r| &**r == room) {
            return;
        }
        let key = write(&self.inner.ns.rooms).add(room, self.inner.id.clone(), self.clone());
        st.rooms.push(key);
    }

    pub fn leave(&self, room: &str) {
        let mut st = lock(&self.inner.st);
        let Some(pos) = st.rooms.iter().position(|r| &**r == room) else {
            return;
        };
        let key = st.rooms.swap_remove(pos);
        self.inner.ns.unindex(&key, &self.inner.id);
    }

    pub fn rooms(&self) -> Vec<String> {
        lock(&self.inner.st)
            .rooms
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    /// Emits `[event, data]` to this client.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let b = packet::event(&self.inner.ns.path, event, data, None)?;
        self.send(&[Frame::Text(b)])
    }

    /// Emits `[event, ...args]`, as a BINARY_EVENT when `binary` is not empty (`args`
    /// then hold the placeholders, see [`placeholder`]).
    pub fn emit_args(
        &self,
        event: &str,
        args: &[Value],
        binary: Vec<Bytes>,
    ) -> Result<(), EmitError> {
        let b = packet::event_args(&self.inner.ns.path, event, args, binary.len(), None)?;
        let mut frames = Vec::with_capacity(1 + binary.len());
        frames.push(Frame::Text(b));
        frames.extend(binary.into_iter().map(Frame::Binary));
        self.send(&frames)
    }

    /// Server-side DISCONNECT of this namespace socket.
    pub fn disconnect(&self) {
        if matches!(lock(&self.inner.st).phase, Phase::Connected) {
            let _ = self
                .inner
                .conn
                .send(Frame::Text(packet::disconnect(&self.inner.ns.path)));
        }
        self.detach();
        self.gone(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// Closes the whole underlying connection (every namespace of this client).
    pub fn close_connection(&self) {
        self.inner.conn.close(CloseReason::ServerClose);
    }

    pub fn connected(&self) -> bool {
        matches!(lock(&self.inner.st).phase, Phase::Connected)
    }

    /// Queues frames for this client, after the CONNECT answer.
    pub(super) fn send(&self, frames: &[Frame]) -> Result<(), EmitError> {
        let mut st = lock(&self.inner.st);
        match &mut st.phase {
            Phase::Connecting(buf) => {
                let queued: usize = buf.iter().chain(frames).map(Frame::len).sum();
                if queued > self.inner.conn.config().outbound_limit_bytes {
                    drop(st);
                    tracing::warn!(socket = %self.inner.id, "slow consumer while connecting: closing");
                    self.inner.conn.close(CloseReason::SlowConsumer);
                    return Err(EmitError::SlowConsumer);
                }
                buf.extend(frames.iter().cloned());
                Ok(())
            }
            Phase::Connected => Ok(self.inner.conn.send_all(frames)?),
            Phase::Closed => Err(EmitError::Closed),
        }
    }

    pub(super) fn send_quiet(&self, frames: &[Frame]) {
        if let Err(e) = self.send(frames) {
            tracing::debug!(socket = %self.inner.id, error = %e, "dropped a packet for a gone socket");
        }
    }

    /// Takes the socket off its connection; a connection left with no namespace
    /// gets `connect_timeout` again to connect one, or is closed.
    pub(super) fn detach(&self) {
        let conn = &self.inner.conn;
        if conn.data().remove(self) {
            let timeout = self.inner.ns.connect_timeout;
            conn.set_deadline(Some(Instant::now() + timeout));
        }
    }

    /// The socket with its application state, once `connect` made it.
    pub(super) fn typed<S: Send + Sync + 'static>(&self) -> Option<Socket<S>> {
        let state = lock(&self.inner.st).state.clone()?;
        Some(Socket {
            socket: self.clone(),
            state: state.downcast::<S>().ok()?,
        })
    }

    /// `connect` succeeded: answer CONNECT, then deliver what waited.
    pub(super) fn connected_with(&self, state: Arc<dyn Any + Send + Sync>) {
        let mut st = lock(&self.inner.st);
        st.state = Some(state);
        if !matches!(st.phase, Phase::Connecting(_)) {
            return;
        }
        let Phase::Connecting(waiting) = std::mem::replace(&mut st.phase, Phase::Connected) else {
            return;
        };
        let connect = [Frame::Text(packet::connect(
            &self.inner.ns.path,
            &self.inner.id,
        ))];
        if let Err(e) = self.inner.conn.send_split(&connect, &waiting) {
            tracing::debug!(socket = %self.inner.id, error = %e, "connected a closing socket");
        }
    }

    /// `connect` refused: CONNECT_ERROR, and the socket never existed for the app.
    pub(super) fn refused(&self, message: &str) {
        let _ = self.inner.conn.send(Frame::Text(packet::connect_error(
            &self.inner.ns.path,
            message,
        )));
        self.detach();
        let mut st = lock(&self.inner.st);
        st.jobs.clear();
        let release = std::mem::take(&mut st.holding);
        drop(st);
        if release {
            self.inner.conn.release_reading();
        }
        self.leave_everything();
    }

    /// Marks the socket closed and leaves every room; `true` the first time.
    pub(super) fn leave_everything(&self) -> bool {
        let mut st = lock(&self.inner.st);
        if matches!(st.phase, Phase::Closed) {
            return false;
        }
        st.phase = Phase::Closed;
        let rooms = std::mem::take(&mut st.rooms);
        for r in &rooms {
            self.inner.ns.unindex(r, &self.inner.id);
        }
        write(&self.inner.ns.sockets).remove(&self.inner.id);
        // pending acks resolve as Disconnected
        st.acks.clear();
        true
    }

    /// The socket is gone: leave rooms, then run `disconnect` (after queued events).
    pub(super) fn gone(&self, reason: DisconnectReason) {
        if self.leave_everything() {
            self.push_job(Job::Disconnect(reason));
        }
    }
}

/// `{"_placeholder":true,"num":n}` for binary arguments.
pub fn placeholder(num: usize) -> Value {
    packet::placeholder(num)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sio::testing::{fixture, sent, until};
    use crate::sio::EngineConfig;
    use serde_json::json;

    #[tokio::test]
    async fn rooms_are_joined_once_and_left() {
        let fx = fixture(EngineConfig::default());
        let (_conn, s) = fx.connect(json!({"rooms": ["a"]})).await;
        s.join("b");
        s.join("a");
        let mut rooms = s.rooms();
        rooms.sort();
        assert_eq!(rooms, ["a", "b"]);
        assert_eq!(fx.engine.local_sockets_in("/", "a"), 1);
        s.leave("a");
        s.leave("never");
        assert_eq!(s.rooms(), ["b"]);
        assert_eq!(fx.engine.local_sockets_in("/", "a"), 0);
    }

    #[tokio::test]
    async fn what_connect_emits_follows_the_connect_answer() {
        let fx = fixture(EngineConfig::default());
        let conn = fx.conn();
        let s = fx.join(&conn, "/", json!({"greet": true})).await;
        assert_eq!(
            sent(&conn),
            [
                format!("40{{\"sid\":\"{}\"}}", s.id()),
                "42[\"hello\",1]".into()
            ]
        );
        assert!(s.connected());
        assert_eq!(s.namespace(), "/");
        assert_eq!(s.engine_sid(), conn.sid());
        assert_eq!(s.transport(), "websocket");
        assert_eq!(
            format!("{s:?}"),
            format!("SocketRef {{ id: {:?}, namespace: \"/\" }}", s.id())
        );
    }

    #[tokio::test]
    async fn a_refused_socket_never_existed() {
        let fx = fixture(EngineConfig::default());
        let conn = fx.conn();
        let s = fx
            .join(&conn, "/", json!({"refuse": "no", "rooms": ["a"]}))
            .await;
        assert_eq!(sent(&conn), ["44{\"message\":\"no\"}"]);
        assert!(!s.connected());
        assert!(conn.data().socket("/").is_none());
        assert_eq!(fx.engine.local_socket_count("/"), 0);
        assert_eq!(fx.engine.local_sockets_in("/", "a"), 0);
        assert!(fx.seen().is_empty(), "no disconnect for a refused socket");
        assert!(!conn.is_closed(), "the connection may try again");
    }

    #[tokio::test]
    async fn a_server_disconnect_tells_the_client_and_the_app() {
        let fx = fixture(EngineConfig::default());
        let (conn, s) = fx.connect(json!({"rooms": ["a"]})).await;
        s.disconnect();
        assert_eq!(sent(&conn), ["41"]);
        assert!(!s.connected());
        assert!(s.rooms().is_empty());
        assert!(matches!(s.emit("e", &1), Err(EmitError::Closed)));
        until(|| !fx.seen().is_empty()).await;
        assert_eq!(fx.seen(), ["disconnect / server namespace disconnect"]);
        s.disconnect();
        assert!(sent(&conn).is_empty(), "once");
    }

    #[tokio::test]
    async fn emits_encode_their_arguments() {
        let fx = fixture(EngineConfig::default());
        let (conn, s) = fx.connect(json!({})).await;
        s.emit("e", &json!({"a": 1}))
            .unwrap_or_else(|e| panic!("{e}"));
        s.emit_args(
            "b",
            &[json!(1), placeholder(0)],
            vec![Bytes::from_static(b"zz")],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sent(&conn),
            [
                "42[\"e\",{\"a\":1}]",
                "451-[\"b\",1,{\"_placeholder\":true,\"num\":0}]",
                "<binary 2>"
            ]
        );
        s.close_connection();
        assert!(conn.is_closed());
        assert!(matches!(s.emit("e", &1), Err(EmitError::Closed)));
    }

    #[tokio::test]
    async fn too_much_while_connecting_is_a_slow_consumer() {
        let fx = fixture(EngineConfig {
            outbound_limit_bytes: 8,
            ..EngineConfig::default()
        });
        let conn = fx.conn();
        fx.text(&conn, "0");
        let s = conn
            .data()
            .socket("/")
            .unwrap_or_else(|| panic!("no socket"));
        // `connect` has not run: the socket is still connecting
        assert!(matches!(
            s.emit("e", &"long enough"),
            Err(EmitError::SlowConsumer)
        ));
        assert!(conn.is_closed());
    }
}
