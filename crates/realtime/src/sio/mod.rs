//! The Socket.IO v5 layer: namespaces, sockets, rooms, acks and broadcasts, as an
//! [`EioHandler`] over the Engine.IO server.

pub mod packet;

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::eio::{
    self, lock, read, write, CloseReason, Conn, EioConfig, EioHandler, EioServer, Frame, Message,
};
use crate::fanout::{Fanout, FanoutAction, FanoutOp};
use packet::Kind;

// ---------------------------------------------------------------- configuration

/// Engine settings (Engine.IO + Socket.IO).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where the engine is served, e.g. `/socket.io/`.
    pub path: String,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Largest payload accepted: a polling POST body or one websocket message.
    pub max_payload: usize,
    /// Exact origin allowed (with credentials); `"*"` = any origin, no credentials;
    /// `None` = same origin only.
    pub cors_origin: Option<String>,
    /// How long a client has to send its first Socket.IO CONNECT.
    pub connect_timeout: Duration,
    /// Slow-consumer policy: more bytes than this queued for one client closes it.
    pub outbound_limit_bytes: usize,
    /// Events of one socket waiting for its handler. At this many the engine
    /// stops reading from the client (backpressure, like socket.io's stream),
    /// and reads again once half are handled. `0` = unbounded.
    pub max_queued_events: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1_000_000,
            cors_origin: None,
            connect_timeout: Duration::from_secs(45),
            outbound_limit_bytes: 4 * 1024 * 1024,
            max_queued_events: 128,
        }
    }
}

impl EngineConfig {
    fn eio(&self) -> EioConfig {
        EioConfig {
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            max_payload: self.max_payload,
            cors_origin: self.cors_origin.clone(),
            outbound_limit_bytes: self.outbound_limit_bytes,
        }
    }
}

// ---------------------------------------------------------------- application API

/// What the handshake knew. Lent to `connect`, then dropped.
pub struct ConnectInfo<'a> {
    pub namespace: &'a str,
    /// The CONNECT packet's payload.
    pub auth: Option<&'a Value>,
    /// Headers of the handshake request (only those an application needs are
    /// kept: cookie, authorization, origin, user-agent, forwarding headers).
    pub headers: &'a HeaderMap,
    pub remote_addr: Option<SocketAddr>,
}

/// Refuses a connection: the client gets `CONNECT_ERROR {"message": ..}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectError(pub String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// A namespace's application handlers.
pub trait Handler: Send + Sync + 'static {
    /// Per-socket state (e.g. the authenticated user), made by `connect`.
    type State: Send + Sync + 'static;
    /// Runs before CONNECT is answered. May `socket.join(..)` rooms and emit (what
    /// it emits is delivered right after the CONNECT). Err → CONNECT_ERROR.
    fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> impl Future<Output = Result<Self::State, ConnectError>> + Send;
    /// One call per EVENT / BINARY_EVENT. For one socket, calls run one at a time in
    /// arrival order, never blocking that socket's writes/pings nor other sockets.
    fn event(
        &self,
        socket: &Socket<Self::State>,
        event: Event,
        ack: Option<AckSender>,
    ) -> impl Future<Output = ()> + Send;
    /// Once, after the socket is gone (rooms already left).
    fn disconnect(
        &self,
        socket: &Socket<Self::State>,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send;
    /// An EVENT the engine refused on its own: its JSON holds a lone UTF-16
    /// surrogate escape (`"\ud83d"`, a cut emoji). Runs in the event's place in
    /// the order; the connection stays up. The default drops it (no ack).
    fn invalid_event(
        &self,
        _socket: &Socket<Self::State>,
        _name: String,
        _ack: Option<AckSender>,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// An event from a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    /// The arguments after the name; binary placeholders
    /// (`{"_placeholder":true,"num":n}`) are left as they are.
    pub args: Vec<Value>,
    /// The binary attachments, by placeholder number.
    pub binary: Vec<Bytes>,
}

impl Event {
    /// The first argument deserialised (missing → `null`), for the `(data, ack)` shape.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.args.first() {
            Some(v) => T::deserialize(v),
            None => T::deserialize(&Value::Null),
        }
    }
}

/// Why a socket left its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client sent DISCONNECT for the namespace.
    ClientNamespaceDisconnect,
    /// The server called `disconnect`.
    ServerNamespaceDisconnect,
    TransportClose,
    TransportError,
    PingTimeout,
    ParseError,
    ServerShutdown,
    /// The outbound queue went over `outbound_limit_bytes`.
    SlowConsumer,
    ForcedServerClose,
}

impl DisconnectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ServerShutdown => "server shutting down",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::ForcedServerClose => "forced server close",
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ServerClose => DisconnectReason::ForcedServerClose,
            CloseReason::ServerShutdown => DisconnectReason::ServerShutdown,
            CloseReason::SlowConsumer => DisconnectReason::SlowConsumer,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("could not encode the payload: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("socket disconnected")]
    Closed,
    #[error("slow consumer: the client was disconnected")]
    SlowConsumer,
}

impl From<eio::SendError> for EmitError {
    fn from(e: eio::SendError) -> Self {
        match e {
            eio::SendError::Closed => EmitError::Closed,
            eio::SendError::SlowConsumer => EmitError::SlowConsumer,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AckError {
    #[error("no ack within the timeout")]
    Timeout,
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// Answers a client's event that asked for an ack. Dropping it sends nothing.
pub struct AckSender {
    socket: SocketRef,
    id: u64,
}

impl AckSender {
    /// `ACK [value]`.
    pub fn send<T: Serialize + ?Sized>(self, value: &T) {
        match packet::ack_value(&self.socket.inner.ns.path, self.id, value) {
            Ok(b) => self.socket.send_quiet(&[Frame::Text(b)]),
            Err(e) => tracing::error!(error = %e, "could not encode an ack"),
        }
    }

    /// `ACK [args..]`, binary (`BINARY_ACK`) when `binary` is not empty (the args then
    /// hold the placeholders).
    pub fn send_args(self, args: &[Value], binary: Vec<Bytes>) {
        match packet::ack(&self.socket.inner.ns.path, self.id, args, binary.len()) {
            Ok(b) => {
                let mut frames = Vec::with_capacity(1 + binary.len());
                frames.push(Frame::Text(b));
                frames.extend(binary.into_iter().map(Frame::Binary));
                self.socket.send_quiet(&frames);
            }
            Err(e) => tracing::error!(error = %e, "could not encode an ack"),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

// ---------------------------------------------------------------- sockets

enum Phase {
    /// `connect` is running: what is sent waits here until the CONNECT answer.
    Connecting(Vec<Frame>),
    Connected,
    Closed,
}

enum Job {
    Connect(Option<Value>),
    Event(Event, Option<u64>),
    /// An event refused by the engine (lone surrogate): its name and ack id.
    Invalid(String, Option<u64>),
    Disconnect(DisconnectReason),
}

/// An ack the client sent back.
struct AckReply {
    args: Vec<Value>,
}

struct SockState {
    phase: Phase,
    rooms: Vec<Arc<str>>,
    jobs: VecDeque<Job>,
    running: bool,
    /// This socket holds its connection's reading (its queue is full).
    holding: bool,
    acks: Option<HashMap<u64, oneshot::Sender<AckReply>>>,
    next_ack: u64,
    state: Option<Arc<dyn Any + Send + Sync>>,
}

struct SocketInner {
    id: Arc<str>,
    ns: Arc<Namespace>,
    conn: Arc<EConn>,
    st: Mutex<SockState>,
}

/// A socket in a namespace. Cheap to clone.
#[derive(Clone)]
pub struct SocketRef {
    inner: Arc<SocketInner>,
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
        let mut idx = write(&self.inner.ns.rooms);
        let key = idx
            .get_key_value(room)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| Arc::from(room));
        idx.entry(key.clone())
            .or_default()
            .insert(self.inner.id.clone(), self.clone());
        drop(idx);
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

    /// Emits `[event, data]` asking for an ack; resolves to the ack's arguments.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Vec<Value>, AckError> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut st = lock(&self.inner.st);
            if matches!(st.phase, Phase::Closed) {
                return Err(AckError::Emit(EmitError::Closed));
            }
            st.next_ack += 1;
            let id = st.next_ack;
            st.acks.get_or_insert_with(Default::default).insert(id, tx);
            id
        };
        let sent = packet::event(&self.inner.ns.path, event, data, Some(id))
            .map_err(EmitError::from)
            .and_then(|b| self.send(&[Frame::Text(b)]));
        if let Err(e) = sent {
            self.forget_ack(id);
            return Err(e.into());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply.args),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.forget_ack(id);
                Err(AckError::Timeout)
            }
        }
    }

    fn forget_ack(&self, id: u64) {
        let mut st = lock(&self.inner.st);
        if let Some(acks) = st.acks.as_mut() {
            acks.remove(&id);
            if acks.is_empty() {
                st.acks = None;
            }
        }
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

    /// Events from the client waiting for this socket's handler (the one
    /// running not counted).
    pub fn queued_events(&self) -> usize {
        lock(&self.inner.st)
            .jobs
            .iter()
            .filter(|j| matches!(j, Job::Event(..) | Job::Invalid(..)))
            .count()
    }

    pub fn connected(&self) -> bool {
        matches!(lock(&self.inner.st).phase, Phase::Connected)
    }

    /// Queues frames for this client, after the CONNECT answer.
    fn send(&self, frames: &[Frame]) -> Result<(), EmitError> {
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

    fn send_quiet(&self, frames: &[Frame]) {
        if let Err(e) = self.send(frames) {
            tracing::debug!(socket = %self.inner.id, error = %e, "dropped a packet for a gone socket");
        }
    }

    /// Takes the socket off its connection; a connection left with no namespace
    /// gets `connect_timeout` again to connect one, or is closed.
    fn detach(&self) {
        let conn = &self.inner.conn;
        if conn.data().remove(self) {
            let timeout = self.inner.ns.connect_timeout;
            conn.set_deadline(Some(Instant::now() + timeout));
        }
    }

    fn push_job(&self, job: Job) {
        let max = self.inner.ns.max_queued_events;
        let mut st = lock(&self.inner.st);
        st.jobs.push_back(job);
        let hold = !st.holding && max > 0 && st.jobs.len() >= max;
        st.holding |= hold;
        let spawn = !st.running;
        st.running = true;
        drop(st);
        if hold {
            tracing::debug!(socket = %self.inner.id, "inbound queue full: reading held");
            self.inner.conn.hold_reading();
        }
        if spawn {
            self.inner.ns.handler.clone().spawn_worker(self.clone());
        }
    }

    fn take_job(&self) -> Option<Job> {
        let mut st = lock(&self.inner.st);
        let job = st.jobs.pop_front();
        let release = st.holding && st.jobs.len() <= self.inner.ns.max_queued_events / 2;
        st.holding &= !release;
        if job.is_none() {
            st.running = false;
            st.jobs = VecDeque::new();
        }
        drop(st);
        if release {
            self.inner.conn.release_reading();
        }
        job
    }

    fn typed<S: Send + Sync + 'static>(&self) -> Option<Socket<S>> {
        let state = lock(&self.inner.st).state.clone()?;
        Some(Socket {
            socket: self.clone(),
            state: state.downcast::<S>().ok()?,
        })
    }

    /// `connect` succeeded: answer CONNECT, then deliver what waited.
    fn connected_with(&self, state: Arc<dyn Any + Send + Sync>) {
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
    fn refused(&self, message: &str) {
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
    fn leave_everything(&self) -> bool {
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
        st.acks = None;
        true
    }

    /// The socket is gone: leave rooms, then run `disconnect` (after queued events).
    fn gone(&self, reason: DisconnectReason) {
        if self.leave_everything() {
            self.push_job(Job::Disconnect(reason));
        }
    }

    fn resolve_ack(&self, id: u64, args: Vec<Value>) {
        let tx = {
            let mut st = lock(&self.inner.st);
            let tx = st.acks.as_mut().and_then(|a| a.remove(&id));
            if st.acks.as_ref().is_some_and(|a| a.is_empty()) {
                st.acks = None;
            }
            tx
        };
        if let Some(tx) = tx {
            let _ = tx.send(AckReply { args });
        }
    }
}

/// `{"_placeholder":true,"num":n}` for binary arguments.
pub fn placeholder(num: usize) -> Value {
    packet::placeholder(num)
}

// ---------------------------------------------------------------- namespaces

trait DynHandler: Send + Sync {
    fn spawn_worker(self: Arc<Self>, socket: SocketRef);
}

struct Typed<H: Handler>(H);

impl<H: Handler> DynHandler for Typed<H> {
    fn spawn_worker(self: Arc<Self>, socket: SocketRef) {
        tokio::spawn(worker(self, socket));
    }
}

/// Runs one socket's jobs in order, then ends (idle sockets have no task).
async fn worker<H: Handler>(h: Arc<Typed<H>>, socket: SocketRef) {
    while let Some(job) = socket.take_job() {
        match job {
            Job::Connect(auth) => {
                let conn = &socket.inner.conn;
                let info = ConnectInfo {
                    namespace: &socket.inner.ns.path,
                    auth: auth.as_ref(),
                    headers: &conn.data().headers,
                    remote_addr: conn.data().remote,
                };
                match AssertUnwindSafe(h.0.connect(&socket, info))
                    .catch_unwind()
                    .await
                {
                    Ok(Ok(state)) => socket.connected_with(Arc::new(state)),
                    Ok(Err(e)) => socket.refused(&e.0),
                    Err(_) => {
                        tracing::error!(namespace = %socket.inner.ns.path, "connect handler panicked");
                        socket.refused("Internal error");
                    }
                }
            }
            Job::Event(event, ack) => {
                let Some(s) = socket.typed::<H::State>() else {
                    continue;
                };
                let name = event.name.clone();
                let ack = ack.map(|id| AckSender {
                    socket: socket.clone(),
                    id,
                });
                if AssertUnwindSafe(h.0.event(&s, event, ack))
                    .catch_unwind()
                    .await
                    .is_err()
                {
                    tracing::error!(event = %name, "event handler panicked");
                }
            }
            Job::Invalid(name, ack) => {
                let Some(s) = socket.typed::<H::State>() else {
                    continue;
                };
                let ack = ack.map(|id| AckSender {
                    socket: socket.clone(),
                    id,
                });
                if AssertUnwindSafe(h.0.invalid_event(&s, name, ack))
                    .catch_unwind()
                    .await
                    .is_err()
                {
                    tracing::error!("invalid_event handler panicked");
                }
            }
            Job::Disconnect(reason) => {
                if let Some(s) = socket.typed::<H::State>() {
                    if AssertUnwindSafe(h.0.disconnect(&s, reason))
                        .catch_unwind()
                        .await
                        .is_err()
                    {
                        tracing::error!("disconnect handler panicked");
                    }
                }
            }
        }
    }
}

type Members = HashMap<Arc<str>, SocketRef>;

struct Namespace {
    path: Arc<str>,
    connect_timeout: Duration,
    max_queued_events: usize,
    handler: Arc<dyn DynHandler>,
    rooms: RwLock<HashMap<Arc<str>, Members>>,
    sockets: RwLock<Members>,
}

impl Namespace {
    fn unindex(&self, room: &str, id: &str) {
        let mut idx = write(&self.rooms);
        if let Some(m) = idx.get_mut(room) {
            m.remove(id);
            if m.is_empty() {
                idx.remove(room);
            }
        }
    }

    /// The sockets an op targets, each once.
    fn targets(
        &self,
        rooms: &[String],
        except_rooms: &[String],
        except_sockets: &[String],
    ) -> Vec<SocketRef> {
        let idx = read(&self.rooms);
        let excluded = |id: &str| {
            except_sockets.iter().any(|s| s == id)
                || except_rooms
                    .iter()
                    .any(|r| idx.get(r.as_str()).is_some_and(|m| m.contains_key(id)))
        };
        let mut out = Vec::new();
        match rooms {
            [] => {
                let all = read(&self.sockets);
                out.extend(
                    all.iter()
                        .filter(|(id, _)| !excluded(id))
                        .map(|(_, s)| s.clone()),
                );
            }
            [one] => {
                if let Some(m) = idx.get(one.as_str()) {
                    out.extend(
                        m.iter()
                            .filter(|(id, _)| !excluded(id))
                            .map(|(_, s)| s.clone()),
                    );
                }
            }
            many => {
                let mut seen: HashSet<&str> = HashSet::new();
                for r in many {
                    if let Some(m) = idx.get(r.as_str()) {
                        for (id, s) in m {
                            if !excluded(id) && seen.insert(id) {
                                out.push(s.clone());
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------- the Engine.IO handler

/// Per-connection Socket.IO data.
pub(crate) struct ConnData {
    headers: HeaderMap,
    remote: Option<SocketAddr>,
    st: Mutex<ConnSio>,
}

struct ConnSio {
    sockets: Vec<SocketRef>,
    /// Binary packets waiting for their attachments.
    reassembler: packet::Reassembler,
}

use packet::AssembleError as Inbound;

impl ConnData {
    fn socket(&self, nsp: &str) -> Option<SocketRef> {
        lock(&self.st)
            .sockets
            .iter()
            .find(|s| &*s.inner.ns.path == nsp)
            .cloned()
    }

    /// Forgets a socket; `true` when that left the connection with none.
    fn remove(&self, socket: &SocketRef) -> bool {
        let mut st = lock(&self.st);
        let before = st.sockets.len();
        st.sockets.retain(|s| !Arc::ptr_eq(&s.inner, &socket.inner));
        before != st.sockets.len() && st.sockets.is_empty()
    }
}

type EConn = Conn<Sio>;

pub(crate) struct Sio {
    shared: Arc<Shared>,
}

struct Shared {
    config: EngineConfig,
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    fanout: Arc<dyn Fanout>,
}

/// Request headers worth keeping for `connect` (auth, origin checks, logging).
const KEPT_HEADERS: [&str; 12] = [
    "cookie",
    "authorization",
    "origin",
    "user-agent",
    "x-forwarded-for",
    "x-real-ip",
    "accept-language",
    // for cross-site checks of cookie-authenticated handshakes
    "host",
    "sec-fetch-site",
    "x-forwarded-host",
    "x-forwarded-proto",
    "forwarded",
];

impl EioHandler for Sio {
    type Data = ConnData;

    fn create(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> ConnData {
        let mut kept = HeaderMap::new();
        for name in KEPT_HEADERS {
            for v in headers.get_all(name) {
                kept.append(name, v.clone());
            }
        }
        ConnData {
            headers: kept,
            remote,
            st: Mutex::new(ConnSio {
                sockets: Vec::new(),
                reassembler: packet::Reassembler::new(self.shared.config.max_payload),
            }),
        }
    }

    fn on_open(&self, conn: &Arc<EConn>) {
        conn.set_deadline(Some(Instant::now() + self.shared.config.connect_timeout));
    }

    fn on_deadline(&self, conn: &Arc<EConn>) {
        if lock(&conn.data().st).sockets.is_empty() {
            tracing::debug!(sid = conn.sid(), "no CONNECT in time: closing");
            conn.close(CloseReason::ServerClose);
        }
    }

    fn on_message(&self, conn: &Arc<EConn>, msg: Message) {
        match self.message(conn, msg) {
            Ok(()) => {}
            Err(Inbound::Parse(e)) => {
                tracing::debug!(sid = conn.sid(), error = %e, "invalid socket.io packet: closing");
                conn.close(CloseReason::ParseError);
            }
            Err(Inbound::TooBig) => {
                tracing::debug!(sid = conn.sid(), "binary packet over maxPayload: closing");
                conn.close(CloseReason::TransportError);
            }
        }
    }

    fn on_close(&self, conn: &Arc<EConn>, reason: CloseReason) {
        let sockets = {
            let mut st = lock(&conn.data().st);
            st.reassembler.reset();
            std::mem::take(&mut st.sockets)
        };
        for s in sockets {
            s.gone(reason.into());
        }
    }
}

impl Sio {
    fn message(&self, conn: &Arc<EConn>, msg: Message) -> Result<(), Inbound> {
        let data = conn.data();
        let done = match msg {
            Message::Text(_) => {
                let text = msg.text().ok_or(packet::ParseError::Empty)?;
                lock(&data.st).reassembler.text(text)?
            }
            Message::Binary(b) => lock(&data.st).reassembler.binary(b)?,
        };
        match done {
            Some(c) => self.dispatch(conn, c.packet, c.binary, c.invalid),
            None => Ok(()),
        }
    }

    /// `invalid`: the JSON held a lone surrogate (replaced by U+FFFD in `p`).
    fn dispatch(
        &self,
        conn: &Arc<EConn>,
        p: packet::Packet,
        binary: Vec<Bytes>,
        invalid: bool,
    ) -> Result<(), Inbound> {
        let data = conn.data();
        match p.kind {
            Kind::Connect => {
                let ns = read(&self.shared.namespaces).get(&p.nsp).cloned();
                let Some(ns) = ns else {
                    let _ = conn.send(Frame::Text(packet::connect_error(
                        &p.nsp,
                        "Invalid namespace",
                    )));
                    return Ok(());
                };
                let socket = {
                    let mut st = lock(&data.st);
                    if st.sockets.iter().any(|s| s.inner.ns.path == ns.path) {
                        return Ok(()); // already connected there
                    }
                    let socket = SocketRef {
                        inner: Arc::new(SocketInner {
                            id: eio_id(),
                            ns: ns.clone(),
                            conn: conn.clone(),
                            st: Mutex::new(SockState {
                                phase: Phase::Connecting(Vec::new()),
                                rooms: Vec::new(),
                                jobs: VecDeque::new(),
                                running: false,
                                holding: false,
                                acks: None,
                                next_ack: 0,
                                state: None,
                            }),
                        }),
                    };
                    st.sockets.push(socket.clone());
                    socket
                };
                conn.set_deadline(None);
                write(&ns.sockets).insert(socket.inner.id.clone(), socket.clone());
                socket.push_job(Job::Connect(p.data));
            }
            Kind::Disconnect => {
                if let Some(s) = data.socket(&p.nsp) {
                    s.detach();
                    s.gone(DisconnectReason::ClientNamespaceDisconnect);
                }
            }
            Kind::Event | Kind::BinaryEvent => {
                let Some(s) = data.socket(&p.nsp) else {
                    return Ok(()); // not connected to that namespace: ignored
                };
                let Some(Value::Array(mut args)) = p.data else {
                    return Err(packet::ParseError::Payload.into());
                };
                let name = match args.first() {
                    Some(Value::String(_)) => match args.remove(0) {
                        Value::String(n) => n,
                        _ => return Err(packet::ParseError::Payload.into()),
                    },
                    _ => return Err(packet::ParseError::Payload.into()),
                };
                if invalid {
                    s.push_job(Job::Invalid(name, p.id));
                } else {
                    s.push_job(Job::Event(Event { name, args, binary }, p.id));
                }
            }
            Kind::Ack | Kind::BinaryAck => {
                if let (Some(s), Some(id), Some(Value::Array(args))) =
                    (data.socket(&p.nsp), p.id, p.data)
                {
                    s.resolve_ack(id, args);
                }
            }
            Kind::ConnectError => return Err(packet::ParseError::Payload.into()),
        }
        Ok(())
    }
}

fn eio_id() -> Arc<str> {
    use base64::Engine as _;
    let raw: [u8; 15] = rand::random();
    Arc::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

// ---------------------------------------------------------------- the engine

/// The realtime engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    eio: EioServer<Sio>,
}

impl Engine {
    pub fn new(config: EngineConfig, fanout: Arc<dyn Fanout>) -> Engine {
        let shared = Arc::new(Shared {
            config: config.clone(),
            namespaces: RwLock::new(HashMap::new()),
            fanout,
        });
        let eio = EioServer::new(
            config.eio(),
            Sio {
                shared: shared.clone(),
            },
        );
        Engine { shared, eio }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Registers a namespace (`"/"`, `"/admin"`…). Before serving.
    pub fn namespace<H: Handler>(&self, path: &str, handler: H) {
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let ns = Arc::new(Namespace {
            path: Arc::from(path.as_str()),
            connect_timeout: self.shared.config.connect_timeout,
            max_queued_events: self.shared.config.max_queued_events,
            handler: Arc::new(Typed(handler)),
            rooms: RwLock::new(HashMap::new()),
            sockets: RwLock::new(HashMap::new()),
        });
        write(&self.shared.namespaces).insert(path, ns);
    }

    /// The axum router serving `config.path` (polling GET/POST + websocket upgrade).
    pub fn router(&self) -> axum::Router {
        self.eio.router(&self.shared.config.path)
    }

    /// A broadcast to a room of a namespace (add rooms and exceptions on it).
    pub fn to(&self, namespace: &str, room: &str) -> Broadcast {
        Broadcast {
            shared: self.shared.clone(),
            namespace: namespace.to_owned(),
            rooms: vec![room.to_owned()],
            except_rooms: Vec::new(),
            except_sockets: Vec::new(),
        }
    }

    /// A broadcast to every socket of a namespace.
    pub fn of(&self, namespace: &str) -> Broadcast {
        Broadcast {
            shared: self.shared.clone(),
            namespace: namespace.to_owned(),
            rooms: Vec::new(),
            except_rooms: Vec::new(),
            except_sockets: Vec::new(),
        }
    }

    pub fn local_sockets_in(&self, namespace: &str, room: &str) -> usize {
        let ns = read(&self.shared.namespaces).get(namespace).cloned();
        ns.map_or(0, |ns| read(&ns.rooms).get(room).map_or(0, HashMap::len))
    }

    /// Sockets of a namespace on this node.
    pub fn local_socket_count(&self, namespace: &str) -> usize {
        let ns = read(&self.shared.namespaces).get(namespace).cloned();
        ns.map_or(0, |ns| read(&ns.sockets).len())
    }

    /// A socket of this node by namespace and id.
    pub fn socket(&self, namespace: &str, id: &str) -> Option<SocketRef> {
        let ns = read(&self.shared.namespaces).get(namespace).cloned()?;
        let s = read(&ns.sockets).get(id).cloned();
        s
    }

    /// Engine.IO connections open on this node.
    pub fn connection_count(&self) -> usize {
        self.eio.connection_count()
    }

    /// Graceful: closes every transport (clients reconnect, maybe to another node).
    pub async fn shutdown(&self) {
        self.eio.shutdown().await;
    }

    /// Applies an op that came from another node, here only.
    pub fn apply_remote(&self, op: FanoutOp) {
        self.shared.apply(&op);
    }
}

impl Shared {
    fn apply(&self, op: &FanoutOp) {
        let Some(ns) = read(&self.namespaces).get(&op.namespace).cloned() else {
            return;
        };
        let targets = ns.targets(&op.rooms, &op.except_rooms, &op.except_sockets);
        match &op.action {
            FanoutAction::Emit {
                packet,
                attachments,
            } => {
                let mut frames = Vec::with_capacity(1 + attachments.len());
                frames.push(Frame::Text(packet.clone()));
                frames.extend(attachments.iter().cloned().map(Frame::Binary));
                for t in targets {
                    t.send_quiet(&frames);
                }
            }
            FanoutAction::Join(rooms) => {
                for t in targets {
                    for r in rooms {
                        t.join(r);
                    }
                }
            }
            FanoutAction::Leave(rooms) => {
                for t in targets {
                    for r in rooms {
                        t.leave(r);
                    }
                }
            }
            FanoutAction::Disconnect => {
                for t in targets {
                    t.disconnect();
                }
            }
        }
    }
}

/// A broadcast under construction: rooms to target, sockets/rooms to skip.
pub struct Broadcast {
    shared: Arc<Shared>,
    namespace: String,
    rooms: Vec<String>,
    except_rooms: Vec<String>,
    except_sockets: Vec<String>,
}

impl Broadcast {
    pub fn to(mut self, room: &str) -> Self {
        if !self.rooms.iter().any(|r| r == room) {
            self.rooms.push(room.to_owned());
        }
        self
    }

    pub fn except_socket(mut self, socket_id: &str) -> Self {
        self.except_sockets.push(socket_id.to_owned());
        self
    }

    pub fn except_room(mut self, room: &str) -> Self {
        self.except_rooms.push(room.to_owned());
        self
    }

    /// Serialised once to `Bytes`, shared by every local recipient, handed once to the fanout.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, data: &T) -> Result<(), EmitError> {
        let packet = packet::event(&self.namespace, event, data, None)?;
        self.run(FanoutAction::Emit {
            packet,
            attachments: Vec::new(),
        });
        Ok(())
    }

    /// `[event, ...args]`, binary when `binary` is not empty.
    pub fn emit_args(
        self,
        event: &str,
        args: &[Value],
        binary: Vec<Bytes>,
    ) -> Result<(), EmitError> {
        let packet = packet::event_args(&self.namespace, event, args, binary.len(), None)?;
        self.run(FanoutAction::Emit {
            packet,
            attachments: binary,
        });
        Ok(())
    }

    /// Makes the matching sockets (on every node) join rooms.
    pub fn join(self, rooms: &[&str]) {
        self.run(FanoutAction::Join(
            rooms.iter().map(|r| r.to_string()).collect(),
        ));
    }

    pub fn leave(self, rooms: &[&str]) {
        self.run(FanoutAction::Leave(
            rooms.iter().map(|r| r.to_string()).collect(),
        ));
    }

    pub fn disconnect(self) {
        self.run(FanoutAction::Disconnect);
    }

    fn run(self, action: FanoutAction) {
        let op = FanoutOp {
            namespace: self.namespace,
            rooms: self.rooms,
            except_rooms: self.except_rooms,
            except_sockets: self.except_sockets,
            action,
        };
        self.shared.apply(&op);
        self.shared.fanout.publish(&op);
    }
}
