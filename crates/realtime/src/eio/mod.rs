//! The raw Engine.IO v4 server: sessions, HTTP long-polling, WebSocket, the
//! polling → websocket upgrade, heartbeat, `maxPayload`, CORS. Usable on its own
//! (the `conformance` binary serves an echo with it); the Socket.IO layer is an
//! [`EioHandler`] on top.
//!
//! One task per connection (the *driver*): it owns the websocket (reading,
//! batching writes, heartbeat) or, for polling sessions, runs the heartbeat while
//! HTTP requests come and go. Every outbound packet goes through one queue per
//! connection, bounded by `outbound_limit_bytes`.

pub mod packet;
pub mod ws;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::time::Instant;

pub use packet::Frame;
use packet::Packet;
use ws::{WsEvent, WsReader};

/// A TCP stream with something that must live as long as the connection (a
/// connection-count slot). Serve HTTP over `TokioIo<TrackedTcp>`: an upgraded
/// websocket keeps the plain stream and the guard until it closes.
pub struct TrackedTcp {
    tcp: tokio::net::TcpStream,
    guard: Box<dyn Send + Sync>,
}

impl TrackedTcp {
    pub fn new(tcp: tokio::net::TcpStream, guard: impl Send + Sync + 'static) -> Self {
        TrackedTcp {
            tcp,
            guard: Box::new(guard),
        }
    }
}

impl tokio::io::AsyncRead for TrackedTcp {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TrackedTcp {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// The upgraded websocket stream: the plain TCP stream when hyper hands it back
/// (no boxing, `TCP_NODELAY` set, vectored writes), else hyper's `Upgraded`.
enum WsIo {
    /// With the guard of a [`TrackedTcp`], if it was one.
    Tcp(
        tokio::net::TcpStream,
        #[allow(dead_code)] Option<Box<dyn Send + Sync>>,
    ),
    Other(TokioIo<hyper::upgrade::Upgraded>),
}

impl WsIo {
    /// The stream and the bytes hyper had already read past the handshake.
    fn from_upgraded(up: hyper::upgrade::Upgraded) -> (WsIo, Bytes) {
        let up = match up.downcast::<TokioIo<tokio::net::TcpStream>>() {
            Ok(parts) => {
                let tcp = parts.io.into_inner();
                let _ = tcp.set_nodelay(true);
                return (WsIo::Tcp(tcp, None), parts.read_buf);
            }
            Err(up) => up,
        };
        match up.downcast::<TokioIo<TrackedTcp>>() {
            Ok(parts) => {
                let TrackedTcp { tcp, guard } = parts.io.into_inner();
                let _ = tcp.set_nodelay(true);
                (WsIo::Tcp(tcp, Some(guard)), parts.read_buf)
            }
            Err(up) => (WsIo::Other(TokioIo::new(up)), Bytes::new()),
        }
    }
}

impl tokio::io::AsyncRead for WsIo {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_read(cx, buf),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for WsIo {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_write(cx, buf),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_write_vectored(cx, bufs),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            WsIo::Tcp(t, _) => t.is_write_vectored(),
            WsIo::Other(o) => o.is_write_vectored(),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_flush(cx),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_shutdown(cx),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_shutdown(cx),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

/// Engine.IO settings.
#[derive(Clone, Debug)]
pub struct EioConfig {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    pub max_payload: usize,
    /// Exact origin allowed with credentials; `"*"` allows any origin without credentials.
    pub cors_origin: Option<String>,
    pub outbound_limit_bytes: usize,
}

impl Default for EioConfig {
    fn default() -> Self {
        EioConfig {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1_000_000,
            cors_origin: None,
            outbound_limit_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Why an Engine.IO connection closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed (close packet, websocket close, connection lost).
    TransportClose,
    /// A transport failure (I/O error, websocket protocol error, payload too large).
    TransportError,
    /// No pong within `ping_timeout`.
    PingTimeout,
    /// The client sent something that is not the protocol.
    ParseError,
    /// Closed by the server application.
    ServerClose,
    /// The server is shutting down.
    ServerShutdown,
    /// More than `outbound_limit_bytes` queued for the client.
    SlowConsumer,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ServerClose => "forced server close",
            CloseReason::ServerShutdown => "server shutting down",
            CloseReason::SlowConsumer => "slow consumer",
        }
    }

    /// Whether queued packets are still delivered before closing.
    fn graceful(self) -> bool {
        matches!(self, CloseReason::ServerClose | CloseReason::ServerShutdown)
    }

    /// Whether a polling session lingers (briefly) for a poll to be told: the queue
    /// and a close packet after a server close, a noop after the client's close.
    fn waits_for_poll(self) -> bool {
        self.graceful() || self == CloseReason::TransportClose
    }

    /// How long a polling session lingers for that poll.
    fn linger(self, ping_timeout: Duration) -> Duration {
        let cap = if self.graceful() { 5 } else { 1 };
        ping_timeout.min(Duration::from_secs(cap))
    }
}

/// A message from the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// The whole text packet, leading `4` included.
    Text(Bytes),
    Binary(Bytes),
}

impl Message {
    /// The text of a text message (after the `4`).
    pub fn text(&self) -> Option<&str> {
        match self {
            Message::Text(b) => std::str::from_utf8(b.get(1..)?).ok(),
            Message::Binary(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    #[error("connection closed")]
    Closed,
    #[error("slow consumer: outbound queue limit exceeded, connection closed")]
    SlowConsumer,
}

/// What the layer above Engine.IO does with connections. Callbacks are synchronous
/// and must not block: they run on the connection's reading path.
pub trait EioHandler: Send + Sync + Sized + 'static {
    /// Per-connection data of the layer above.
    type Data: Send + Sync + 'static;
    /// Makes the data from the handshake request.
    fn create(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Self::Data;
    /// The session is open (its open packet is sent first).
    fn on_open(&self, _conn: &Arc<Conn<Self>>) {}
    fn on_message(&self, conn: &Arc<Conn<Self>>, msg: Message);
    /// The deadline set with [`Conn::set_deadline`] passed.
    fn on_deadline(&self, _conn: &Arc<Conn<Self>>) {}
    /// Once, after the connection is gone.
    fn on_close(&self, conn: &Arc<Conn<Self>>, reason: CloseReason);
}

struct Inner<H: EioHandler> {
    config: EioConfig,
    handler: H,
    conns: RwLock<HashMap<Arc<str>, Arc<Conn<H>>>>,
    gone: Notify,
}

/// An Engine.IO server. Cheap to clone.
pub struct EioServer<H: EioHandler> {
    inner: Arc<Inner<H>>,
}

impl<H: EioHandler> Clone for EioServer<H> {
    fn clone(&self) -> Self {
        EioServer {
            inner: self.inner.clone(),
        }
    }
}

struct ConnState {
    queue: VecDeque<Frame>,
    queued: usize,
    /// The websocket is the transport (direct, or after the upgrade completed).
    ws: bool,
    /// A websocket upgrade request was accepted and not abandoned.
    upgrade_started: bool,
    /// The probe was answered: pending polls get a noop.
    upgrading: bool,
    /// The upgraded stream (and bytes already read), handed to the driver.
    upgrade_io: Option<(WsIo, Bytes)>,
    /// Frames to write on their own before the rest of the queue.
    split: Option<usize>,
    poll_active: bool,
    closed: Option<CloseReason>,
    /// The client has been told (or can no longer be told) about the close.
    final_flushed: bool,
    next_ping: Instant,
    pong_deadline: Option<Instant>,
    deadline: Option<Instant>,
    /// Holds on reading from the client ([`Conn::hold_reading`]): backpressure
    /// while the layer above has a full inbound queue.
    holds: usize,
}

/// One Engine.IO session.
pub struct Conn<H: EioHandler> {
    sid: Arc<str>,
    server: Arc<Inner<H>>,
    data: H::Data,
    st: Mutex<ConnState>,
    /// Wakes the writer (websocket driver or the pending poll).
    data_ready: Notify,
    /// Wakes the driver (close, upgrade, pong, deadline, reading resumed).
    ctrl: Notify,
    /// Wakes polling POSTs waiting for reading to resume.
    resume: Notify,
}

impl<H: EioHandler> Conn<H> {
    pub fn sid(&self) -> &str {
        &self.sid
    }

    pub fn data(&self) -> &H::Data {
        &self.data
    }

    pub fn config(&self) -> &EioConfig {
        &self.server.config
    }

    /// Queues one packet.
    pub fn send(&self, frame: Frame) -> Result<(), SendError> {
        self.send_all(std::slice::from_ref(&frame))
    }

    /// Queues packets back to back (a message and its binary attachments).
    pub fn send_all(&self, frames: &[Frame]) -> Result<(), SendError> {
        let add: usize = frames.iter().map(Frame::len).sum();
        let mut st = lock(&self.st);
        if st.closed.is_some() {
            return Err(SendError::Closed);
        }
        if st.queued.saturating_add(add) > self.server.config.outbound_limit_bytes {
            st.closed = Some(CloseReason::SlowConsumer);
            let queued = st.queued;
            drop(st);
            tracing::warn!(sid = %self.sid, queued, "slow consumer: closing the connection");
            self.wake_all();
            return Err(SendError::SlowConsumer);
        }
        st.queue.extend(frames.iter().cloned());
        st.queued += add;
        drop(st);
        self.data_ready.notify_one();
        Ok(())
    }

    /// Queues `first`, then `then`, asking the websocket writer to put `first` in a
    /// write of its own (a handshake answer before what follows it).
    pub fn send_split(&self, first: &[Frame], then: &[Frame]) -> Result<(), SendError> {
        if then.is_empty() {
            return self.send_all(first);
        }
        let all: Vec<Frame> = first.iter().chain(then).cloned().collect();
        self.send_all(&all)?;
        let mut st = lock(&self.st);
        let at = st.queue.len().saturating_sub(then.len());
        st.split = Some(at);
        Ok(())
    }

    /// Bytes waiting in the outbound queue.
    pub fn queued_bytes(&self) -> usize {
        lock(&self.st).queued
    }

    /// Closes the session (no-op when already closing).
    pub fn close(&self, reason: CloseReason) {
        let mut st = lock(&self.st);
        if st.closed.is_some() {
            return;
        }
        st.closed = Some(reason);
        drop(st);
        self.wake_all();
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.st).closed.is_some()
    }

    /// `"websocket"` or `"polling"`.
    pub fn transport(&self) -> &'static str {
        if lock(&self.st).ws {
            "websocket"
        } else {
            "polling"
        }
    }

    /// Arms (or clears) a one-shot deadline; [`EioHandler::on_deadline`] runs when it passes.
    pub fn set_deadline(&self, at: Option<Instant>) {
        lock(&self.st).deadline = at;
        self.ctrl.notify_one();
    }

    fn wake_all(&self) {
        self.ctrl.notify_one();
        self.data_ready.notify_one();
        self.resume.notify_waiters();
    }

    /// Stops taking packets from the client (backpressure): the websocket is not
    /// read, a polling POST waits before its next message. Counted: reading
    /// resumes when every hold is released. No ping timeout while held (the
    /// pong may be among what is not read).
    pub fn hold_reading(&self) {
        lock(&self.st).holds += 1;
    }

    /// Releases one [`Conn::hold_reading`].
    pub fn release_reading(&self) {
        let mut st = lock(&self.st);
        st.holds = st.holds.saturating_sub(1);
        if st.holds > 0 {
            return;
        }
        if let Some(d) = st.pong_deadline {
            st.pong_deadline = Some(d.max(Instant::now() + self.server.config.ping_timeout));
        }
        drop(st);
        self.ctrl.notify_one();
        self.resume.notify_waiters();
    }

    /// Whether reading is held.
    pub fn reading_held(&self) -> bool {
        lock(&self.st).holds > 0
    }

    /// Waits until reading is not held; `false` when the connection closed.
    async fn readable(&self) -> bool {
        loop {
            let resumed = self.resume.notified();
            {
                let st = lock(&self.st);
                if st.closed.is_some() {
                    return false;
                }
                if st.holds == 0 {
                    return true;
                }
            }
            resumed.await;
        }
    }

    /// Handles one packet from either transport. `Err` = protocol violation.
    fn on_packet(self: &Arc<Self>, p: Packet) -> Result<(), ()> {
        match p {
            Packet::Close => self.close(CloseReason::TransportClose),
            Packet::Pong(_) => {
                let mut st = lock(&self.st);
                st.pong_deadline = None;
                st.next_ping = Instant::now() + self.server.config.ping_interval;
                drop(st);
                self.ctrl.notify_one();
            }
            Packet::Message(b) => self.server.handler.on_message(self, Message::Text(b)),
            Packet::Binary(b) => self.server.handler.on_message(self, Message::Binary(b)),
            Packet::Ping(_) | Packet::Noop => {}
            Packet::Upgrade => return Err(()),
        }
        Ok(())
    }
}

/// Parsed query parameters that matter.
#[derive(Default)]
struct Query<'a> {
    eio: Option<&'a str>,
    transport: Option<&'a str>,
    sid: Option<&'a str>,
}

fn parse_query(q: Option<&str>) -> Query<'_> {
    let mut out = Query::default();
    for pair in q.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "EIO" => out.eio = Some(v),
            "transport" => out.transport = Some(v),
            "sid" => out.sid = Some(v),
            _ => {}
        }
    }
    out
}

fn new_id() -> Arc<str> {
    use base64::Engine as _;
    let raw: [u8; 15] = rand::random();
    Arc::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

fn error_response(code: u8, message: &str, status: StatusCode) -> Response {
    let body = format!("{{\"code\":{code},\"message\":\"{message}\"}}");
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn bad(code: u8) -> Response {
    let message = match code {
        0 => "Transport unknown",
        1 => "Session ID unknown",
        2 => "Bad handshake method",
        4 => "Forbidden",
        5 => "Unsupported protocol version",
        _ => "Bad request",
    };
    error_response(code, message, StatusCode::BAD_REQUEST)
}

fn text_response(body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    r
}

impl<H: EioHandler> EioServer<H> {
    pub fn new(config: EioConfig, handler: H) -> Self {
        EioServer {
            inner: Arc::new(Inner {
                config,
                handler,
                conns: RwLock::new(HashMap::new()),
                gone: Notify::new(),
            }),
        }
    }

    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    pub fn config(&self) -> &EioConfig {
        &self.inner.config
    }

    pub fn connection_count(&self) -> usize {
        read(&self.inner.conns).len()
    }

    pub fn conn(&self, sid: &str) -> Option<Arc<Conn<H>>> {
        read(&self.inner.conns).get(sid).cloned()
    }

    /// Closes every connection and waits (up to 5 s) for them to be gone.
    pub async fn shutdown(&self) {
        let conns: Vec<_> = read(&self.inner.conns).values().cloned().collect();
        for c in &conns {
            c.close(CloseReason::ServerShutdown);
        }
        drop(conns);
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let gone = self.inner.gone.notified();
            if self.connection_count() == 0 {
                return;
            }
            if tokio::time::timeout_at(until, gone).await.is_err() {
                return;
            }
        }
    }

    /// An axum router serving `path` (with and without its trailing slash).
    pub fn router(&self, path: &str) -> axum::Router {
        let inner = self.inner.clone();
        let route = axum::routing::any(move |req: Request<Body>| {
            let inner = inner.clone();
            async move { inner.handle(req).await }
        });
        let mut router = axum::Router::new().route(path, route.clone());
        let trimmed = path.trim_end_matches('/');
        if !trimmed.is_empty() && trimmed != path {
            router = router.route(trimmed, route);
        }
        router
    }
}

impl<H: EioHandler> Inner<H> {
    async fn handle(self: Arc<Self>, req: Request<Body>) -> Response {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let mut resp = self.route(req).await;
        self.cors(origin.as_ref(), resp.headers_mut());
        resp
    }

    fn cors(&self, origin: Option<&HeaderValue>, h: &mut HeaderMap) {
        match self.config.cors_origin.as_deref() {
            None => {}
            Some("*") => {
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            Some(allowed) => {
                if let Some(o) = origin.filter(|o| o.as_bytes() == allowed.as_bytes()) {
                    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
                    h.insert(
                        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
                h.append(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
    }

    async fn route(self: &Arc<Self>, mut req: Request<Body>) -> Response {
        if req.method() == Method::OPTIONS {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            let allow = req
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned()
                .unwrap_or(HeaderValue::from_static("content-type"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow);
            return r;
        }
        let uri = req.uri().clone();
        let q = parse_query(uri.query());
        if q.eio != Some("4") {
            return bad(5);
        }
        match q.transport {
            Some("polling") => {}
            Some("websocket") => return self.websocket(&mut req, q.sid),
            _ => return bad(0),
        }
        let Some(sid) = q.sid else {
            if req.method() != Method::GET {
                return bad(2);
            }
            return self.open_polling(&req);
        };
        let Some(conn) = read(&self.conns).get(sid).cloned() else {
            return bad(1);
        };
        match *req.method() {
            Method::GET => conn.poll().await,
            Method::POST => conn.post(req).await,
            _ => bad(2),
        }
    }

    fn remote(req: &Request<Body>) -> Option<SocketAddr> {
        req.extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
    }

    fn new_conn(self: &Arc<Self>, req: &Request<Body>, ws: bool) -> Arc<Conn<H>> {
        let data = self.handler.create(req.headers(), Self::remote(req));
        let conn = Arc::new(Conn {
            sid: new_id(),
            server: self.clone(),
            data,
            st: Mutex::new(ConnState {
                queue: VecDeque::new(),
                queued: 0,
                ws,
                upgrade_started: false,
                upgrading: false,
                upgrade_io: None,
                split: None,
                poll_active: false,
                closed: None,
                final_flushed: false,
                next_ping: Instant::now() + self.config.ping_interval,
                pong_deadline: None,
                deadline: None,
                holds: 0,
            }),
            data_ready: Notify::new(),
            ctrl: Notify::new(),
            resume: Notify::new(),
        });
        write(&self.conns).insert(conn.sid.clone(), conn.clone());
        conn
    }

    fn open_packet(&self, sid: &str, upgrades: bool) -> Bytes {
        let c = &self.config;
        Bytes::from(format!(
            "0{{\"sid\":\"{sid}\",\"upgrades\":[{}],\"pingInterval\":{},\"pingTimeout\":{},\"maxPayload\":{}}}",
            if upgrades { "\"websocket\"" } else { "" },
            c.ping_interval.as_millis(),
            c.ping_timeout.as_millis(),
            c.max_payload
        ))
    }

    fn open_polling(self: &Arc<Self>, req: &Request<Body>) -> Response {
        let conn = self.new_conn(req, false);
        let open = self.open_packet(&conn.sid, true);
        self.handler.on_open(&conn);
        tokio::spawn(drive(conn, None, None));
        text_response(open)
    }

    fn websocket(self: &Arc<Self>, req: &mut Request<Body>, sid: Option<&str>) -> Response {
        if req.method() != Method::GET {
            return bad(2);
        }
        let h = req.headers();
        let upgrade = h
            .get(header::UPGRADE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
        let version = h
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v.as_bytes() == b"13");
        let Some(key) = h
            .get(header::SEC_WEBSOCKET_KEY)
            .filter(|_| upgrade && version)
        else {
            return bad(3);
        };
        let accept = ws::accept_key(key.as_bytes());
        let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
            return bad(3);
        };
        match sid {
            None => {
                let conn = self.new_conn(req, true);
                let open = self.open_packet(&conn.sid, false);
                self.handler.on_open(&conn);
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), on_upgrade).await {
                        Ok(Ok(io)) => drive(conn, Some(WsIo::from_upgraded(io)), Some(open)).await,
                        _ => {
                            conn.close(CloseReason::TransportError);
                            finish(&conn);
                        }
                    }
                });
            }
            Some(sid) => {
                let Some(conn) = read(&self.conns).get(sid).cloned() else {
                    return bad(1);
                };
                let refuse = {
                    let mut st = lock(&conn.st);
                    if st.closed.is_some() {
                        return bad(1);
                    }
                    let refuse = st.ws || st.upgrade_started;
                    st.upgrade_started = true;
                    refuse
                };
                if refuse {
                    // Already upgraded (or upgrading): like the reference, complete the
                    // websocket handshake and close that websocket at once.
                    tokio::spawn(async move {
                        if let Ok(Ok(io)) =
                            tokio::time::timeout(Duration::from_secs(10), on_upgrade).await
                        {
                            let (mut io, _) = WsIo::from_upgraded(io);
                            let close = [(ws::OP_CLOSE, ws::close_payload(1008))];
                            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                                let _ = ws::write_frames(&mut io, &close).await;
                                let _ = io.shutdown().await;
                            })
                            .await;
                        }
                    });
                    return switching(&accept);
                }
                tokio::spawn(async move {
                    let io = tokio::time::timeout(Duration::from_secs(10), on_upgrade).await;
                    let mut st = lock(&conn.st);
                    match io {
                        Ok(Ok(io)) if st.closed.is_none() => {
                            st.upgrade_io = Some(WsIo::from_upgraded(io))
                        }
                        _ => st.upgrade_started = false,
                    }
                    drop(st);
                    conn.ctrl.notify_one();
                });
            }
        }
        switching(&accept)
    }
}

/// The `101 Switching Protocols` answer to a websocket handshake.
fn switching(accept: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}

/// Resets `poll_active` when a poll ends (answered or abandoned by the client).
struct PollGuard<'a, H: EioHandler>(&'a Conn<H>);

impl<H: EioHandler> Drop for PollGuard<'_, H> {
    fn drop(&mut self) {
        lock(&self.0.st).poll_active = false;
    }
}

impl<H: EioHandler> Conn<H> {
    /// Takes the whole queue: (frames, their bytes).
    fn take_queue(st: &mut ConnState) -> VecDeque<Frame> {
        st.queued = 0;
        st.split = None;
        std::mem::take(&mut st.queue)
    }

    /// Takes the queue up to a pending split point (all of it when none).
    fn take_batch(st: &mut ConnState) -> (VecDeque<Frame>, bool) {
        match st.split.take() {
            Some(n) if n > 0 && n < st.queue.len() => {
                let rest = st.queue.split_off(n);
                let batch = std::mem::replace(&mut st.queue, rest);
                st.queued -= batch.iter().map(Frame::len).sum::<usize>();
                (batch, true)
            }
            _ => (Self::take_queue(st), false),
        }
    }

    async fn poll(self: &Arc<Self>) -> Response {
        // A poll that comes once a websocket upgrade has begun: if the upgrade then
        // completes, it is refused like any poll after the upgrade.
        let arrived_during_upgrade;
        {
            let mut st = lock(&self.st);
            if st.ws {
                return bad(3);
            }
            if st.closed.is_some()
                && (st.final_flushed || !st.closed.is_some_and(CloseReason::waits_for_poll))
            {
                return bad(1);
            }
            if st.closed.is_none()
                && st.holds == 0
                && st.pong_deadline.is_some_and(|d| Instant::now() >= d)
            {
                st.closed = Some(CloseReason::PingTimeout);
                st.final_flushed = true;
                drop(st);
                self.wake_all();
                return bad(1);
            }
            if st.poll_active {
                st.closed = Some(CloseReason::TransportError);
                drop(st);
                tracing::debug!(sid = %self.sid, "overlapping polls: closing");
                self.wake_all();
                return bad(3);
            }
            st.poll_active = true;
            arrived_during_upgrade = st.upgrade_started;
        }
        let _guard = PollGuard(self);
        let mut waited = false;
        loop {
            let notified = self.data_ready.notified();
            let wait_upgrade;
            {
                let mut st = lock(&self.st);
                if let Some(reason) = st.closed {
                    let mut frames = if reason.graceful() {
                        Self::take_queue(&mut st)
                    } else {
                        VecDeque::new()
                    };
                    let last: &'static [u8] = if reason == CloseReason::TransportClose {
                        b"6"
                    } else {
                        b"1"
                    };
                    frames.push_back(Frame::Text(Bytes::from_static(last)));
                    st.final_flushed = true;
                    drop(st);
                    self.ctrl.notify_one();
                    return text_response(packet::encode_payload(&frames));
                }
                if !st.queue.is_empty() {
                    let frames = Self::take_queue(&mut st);
                    drop(st);
                    return text_response(packet::encode_payload(&frames));
                }
                if st.ws {
                    return if arrived_during_upgrade {
                        bad(3)
                    } else {
                        text_response("6")
                    };
                }
                if st.upgrading && (!arrived_during_upgrade || waited) {
                    return text_response("6");
                }
                wait_upgrade = st.upgrading;
            }
            if wait_upgrade {
                // the upgrade packet is usually right behind the probe
                waited = true;
                let _ = tokio::time::timeout(UPGRADE_GRACE, notified).await;
                continue;
            }
            notified.await;
        }
    }

    async fn post(self: &Arc<Self>, req: Request<Body>) -> Response {
        {
            let st = lock(&self.st);
            if st.ws {
                return bad(3);
            }
            if st.closed.is_some() {
                return bad(1);
            }
        }
        let max = self.server.config.max_payload;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let too_big = || {
            self.close(CloseReason::TransportError);
            error_response(3, "Payload too large", StatusCode::PAYLOAD_TOO_LARGE)
        };
        if declared.is_some_and(|l| l > max) {
            return too_big();
        }
        let body = match axum::body::to_bytes(req.into_body(), max).await {
            Ok(b) => b,
            Err(_) => return too_big(),
        };
        let packets = match packet::decode_payload(&body) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(sid = %self.sid, error = %e, "bad polling payload: closing");
                self.close(CloseReason::ParseError);
                return bad(3);
            }
        };
        for p in packets {
            // backpressure: the client gets its answer once the handlers caught up
            if matches!(p, Packet::Message(_) | Packet::Binary(_)) && !self.readable().await {
                break;
            }
            if self.on_packet(p).is_err() {
                self.close(CloseReason::ParseError);
                return bad(3);
            }
        }
        text_response("ok")
    }
}

/// Waits for bytes on the websocket, or forever when there is none.
async fn read_some(io: Option<&mut WsIo>, buf: &mut BytesMut) -> std::io::Result<usize> {
    match io {
        Some(io) => io.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

const MIN_READ: usize = 256;
/// How long a poll that arrived during an upgrade waits for its completion.
const UPGRADE_GRACE: Duration = Duration::from_millis(20);
/// Pause between a split-off handshake answer and what follows it.
const SPLIT_PAUSE: Duration = Duration::from_millis(2);
const SHRINK_ABOVE: usize = 4096;

/// The connection's one task: heartbeat, deadline, and (once there is one) the websocket.
async fn drive<H: EioHandler>(conn: Arc<Conn<H>>, io: Option<(WsIo, Bytes)>, open: Option<Bytes>) {
    let (mut io, prefix) = match io {
        Some((io, prefix)) => (Some(io), prefix),
        None => (None, Bytes::new()),
    };
    let cfg = conn.server.config.clone();
    let write_timeout = cfg.ping_interval + cfg.ping_timeout;
    let mut rbuf = BytesMut::from(&prefix[..]);
    drop(prefix);
    let mut reader = WsReader::default();
    let mut more = false;
    let mut pause = false;
    // The websocket is there but the polling transport still rules (upgrade in progress).
    let mut probing = false;
    let mut out: Vec<(u8, Bytes)> = Vec::new();
    if let Some(open) = open {
        out.push((ws::OP_TEXT, open));
    }
    let mut grace_until: Option<Instant> = None;
    // Frames left in `rbuf` when reading was held.
    let mut backlog = false;
    loop {
        let now = Instant::now();
        let mut fire_deadline = false;
        let mut exit = None;
        let timer;
        {
            let mut st = lock(&conn.st);
            let held = st.holds > 0;
            if st.closed.is_none() {
                match st.pong_deadline {
                    Some(d) if now >= d && !held => st.closed = Some(CloseReason::PingTimeout),
                    Some(_) => {}
                    None if now >= st.next_ping => {
                        // on the schedule, even when this wake-up comes late
                        let due = (st.next_ping + cfg.ping_timeout).max(now + cfg.ping_timeout / 2);
                        st.pong_deadline = Some(due);
                        st.queue.push_back(Frame::Text(Bytes::from_static(b"2")));
                        st.queued += 1;
                        conn.data_ready.notify_one();
                    }
                    None => {}
                }
                if st.deadline.is_some_and(|d| now >= d) {
                    st.deadline = None;
                    fire_deadline = true;
                }
            }
            if io.is_none() {
                if let Some((new, prefix)) = st.upgrade_io.take() {
                    io = Some(new);
                    probing = true;
                    rbuf = BytesMut::from(&prefix[..]);
                    reader = WsReader::default();
                }
            }
            let ws_mode = st.ws && io.is_some() && !probing;
            if ws_mode && (st.closed.is_none() || st.closed.is_some_and(CloseReason::graceful)) {
                let (batch, split) = Conn::<H>::take_batch(&mut st);
                pause = split;
                for f in batch {
                    out.push(match f {
                        Frame::Text(b) => (ws::OP_TEXT, b),
                        Frame::Binary(b) => (ws::OP_BINARY, b),
                    });
                }
                more = !st.queue.is_empty();
            }
            if let Some(reason) = st.closed {
                // An upgrade in progress does not end a polling session's linger: the
                // client may still poll for the close, or (having paused polling for
                // the upgrade) send the upgrade packet and be told on the websocket.
                if ws_mode || !reason.waits_for_poll() || st.final_flushed {
                    exit = Some(reason);
                } else {
                    let g = *grace_until.get_or_insert(now + reason.linger(cfg.ping_timeout));
                    if now >= g {
                        exit = Some(reason);
                    }
                }
                if ws_mode {
                    let code = if reason == CloseReason::TransportError {
                        1009
                    } else {
                        1000
                    };
                    out.push((ws::OP_CLOSE, ws::close_payload(code)));
                }
            }
            let heartbeat = match st.pong_deadline {
                Some(d) if !held => Some(d),
                Some(_) => None,
                None => Some(st.next_ping),
            };
            timer = [heartbeat, st.deadline, grace_until]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + cfg.ping_interval);
        }
        if !out.is_empty() {
            if let Some(w) = io.as_mut() {
                let res = tokio::time::timeout(write_timeout, ws::write_frames(w, &out)).await;
                if !matches!(res, Ok(Ok(()))) {
                    if probing {
                        io = None;
                        probing = false;
                        abandon_upgrade(&conn);
                    } else {
                        conn.close(CloseReason::TransportError);
                        exit.get_or_insert(CloseReason::TransportError);
                    }
                }
            }
            out.clear();
            if out.capacity() > 64 {
                out = Vec::new();
            }
        }
        if let Some(reason) = exit {
            tracing::debug!(sid = %conn.sid, reason = reason.as_str(), "engine.io connection closed");
            finish(&conn);
            if let Some(w) = io.take() {
                linger_close(w).await;
            }
            return;
        }
        if fire_deadline {
            conn.server.handler.on_deadline(&conn);
            continue;
        }
        if std::mem::take(&mut pause) {
            // a handshake answer went out on its own: let the client read it alone
            tokio::time::sleep(SPLIT_PAUSE).await;
        }
        if std::mem::take(&mut more) {
            continue;
        }
        let ws_mode = io.is_some() && !probing;
        let held = conn.reading_held();
        if backlog && ws_mode && !held {
            // reading resumed: first what was read and not handled
            backlog = on_ws_bytes(
                &conn,
                &mut reader,
                &mut rbuf,
                &mut out,
                &mut probing,
                cfg.max_payload,
            )
            .unwrap_or(false);
            continue;
        }
        if io.is_some() {
            let spare = rbuf.capacity() - rbuf.len();
            let want = WsReader::needed(&rbuf)
                .unwrap_or(0)
                .saturating_sub(rbuf.len());
            let want = want.min(cfg.max_payload + 16).max(MIN_READ);
            if spare < want {
                rbuf.reserve(want);
            }
        }
        tokio::select! {
            r = read_some(io.as_mut(), &mut rbuf), if !(held && ws_mode) => {
                match r {
                    Ok(n) if n > 0 => {
                        match on_ws_bytes(&conn, &mut reader, &mut rbuf, &mut out, &mut probing, cfg.max_payload) {
                            Ok(b) => backlog = b,
                            Err(()) => {
                                if probing {
                                    io = None;
                                    probing = false;
                                    abandon_upgrade(&conn);
                                }
                            }
                        }
                        if probing && io.is_some() && lock(&conn.st).ws {
                            probing = false;
                        }
                        if rbuf.is_empty() && rbuf.capacity() > SHRINK_ABOVE {
                            rbuf = BytesMut::new();
                        }
                    }
                    _ => {
                        if probing {
                            io = None;
                            probing = false;
                            abandon_upgrade(&conn);
                        } else {
                            conn.close(CloseReason::TransportClose);
                        }
                    }
                }
            }
            _ = conn.data_ready.notified(), if ws_mode => {}
            _ = conn.ctrl.notified() => {}
            _ = tokio::time::sleep_until(timer) => {}
        }
    }
}

/// Closes a websocket's TCP connection without resetting it: our side ends first
/// (after any close frame), then what the peer still sends (its close frame) is read
/// and dropped until it ends too, for at most a second. Dropping the socket with
/// unread bytes would send a reset, and the client could lose our close frame to it
/// and report a transport error instead of a close.
async fn linger_close(mut w: WsIo) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        w.shutdown().await?;
        let mut scratch = [0u8; 256];
        while w.read(&mut scratch).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

fn abandon_upgrade<H: EioHandler>(conn: &Conn<H>) {
    let mut st = lock(&conn.st);
    st.upgrade_started = false;
    st.upgrading = false;
}

/// Handles the frames in `rbuf`. `Ok(true)`: stopped because reading is held,
/// frames may be left in `rbuf`. `Err(())` aborts a probing websocket.
fn on_ws_bytes<H: EioHandler>(
    conn: &Arc<Conn<H>>,
    reader: &mut WsReader,
    rbuf: &mut BytesMut,
    out: &mut Vec<(u8, Bytes)>,
    probing: &mut bool,
    max: usize,
) -> Result<bool, ()> {
    loop {
        if !*probing {
            let (closed, held) = {
                let st = lock(&conn.st);
                (st.closed.is_some(), st.holds > 0)
            };
            if closed {
                rbuf.clear();
                return Ok(false);
            }
            if held {
                return Ok(true);
            }
        }
        let ev = match reader.next(rbuf, max) {
            Ok(Some(ev)) => ev,
            Ok(None) => return Ok(false),
            Err(e) => {
                rbuf.clear();
                if *probing {
                    return Err(());
                }
                tracing::debug!(sid = %conn.sid, error = %e, "websocket error: closing");
                out.push((ws::OP_CLOSE, ws::close_payload(e.close_code())));
                let reason = if e == ws::WsError::TooBig {
                    CloseReason::TransportError
                } else {
                    CloseReason::ParseError
                };
                conn.close(reason);
                return Ok(false);
            }
        };
        match ev {
            WsEvent::Ping(p) => out.push((ws::OP_PONG, p)),
            WsEvent::Pong => {}
            WsEvent::Close => {
                if *probing {
                    return Err(());
                }
                conn.close(CloseReason::TransportClose);
                return Ok(false);
            }
            WsEvent::Text(b) if *probing => {
                if &b[..] == b"2probe" {
                    out.push((ws::OP_TEXT, Bytes::from_static(b"3probe")));
                    lock(&conn.st).upgrading = true;
                    conn.data_ready.notify_one();
                } else if &b[..] == b"5" && lock(&conn.st).upgrading {
                    {
                        let mut st = lock(&conn.st);
                        st.ws = true;
                        st.upgrading = false;
                    }
                    *probing = false;
                    // wake a pending poll (it answers noop) and flush the queue here
                    conn.data_ready.notify_one();
                    conn.data_ready.notify_one();
                } else {
                    return Err(());
                }
            }
            WsEvent::Binary(_) if *probing => return Err(()),
            WsEvent::Text(b) => {
                let ok = packet::parse_text(b)
                    .map_err(|_| ())
                    .and_then(|p| conn.on_packet(p));
                if ok.is_err() {
                    tracing::debug!(sid = %conn.sid, "invalid packet: closing");
                    conn.close(CloseReason::ParseError);
                }
            }
            WsEvent::Binary(b) => conn.server.handler.on_message(conn, Message::Binary(b)),
        }
    }
}

/// Final cleanup, exactly once per connection: forget it, tell the handler.
fn finish<H: EioHandler>(conn: &Arc<Conn<H>>) {
    let reason = {
        let mut st = lock(&conn.st);
        let reason = *st.closed.get_or_insert(CloseReason::TransportClose);
        st.final_flushed = true;
        st.queue = VecDeque::new();
        st.queued = 0;
        st.upgrade_io = None;
        reason
    };
    let removed = write(&conn.server.conns).remove(&conn.sid).is_some();
    conn.data_ready.notify_one();
    if removed {
        conn.server.handler.on_close(conn, reason);
    }
    conn.server.gone.notify_waiters();
}
