//! Helpers for the unit tests of the Socket.IO layer: an engine with a
//! recording application and fanout, connections made without HTTP, and a way
//! to let the socket workers run.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use super::conn::EConn;
use super::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Engine, EngineConfig, Event, Handler,
    Socket, SocketRef,
};
use crate::eio::testing::{session, take_sent, texts};
use crate::eio::{lock, EioHandler, Message};
use crate::fanout::{Fanout, FanoutOp};

/// What the application and the fanout were told, as lines.
type Log = Arc<Mutex<Vec<String>>>;

/// `connect` takes the auth `{"refuse": msg}` (refused), `{"rooms": [..]}`
/// (joined), `{"greet": true}` (emits `hello` before the CONNECT answer);
/// events are logged as `<name> <args>` and acked with their args.
struct App(Log);

impl Handler for App {
    type State = String;

    async fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> Result<String, ConnectError> {
        let auth = info.auth.cloned().unwrap_or(Value::Null);
        if let Some(m) = auth["refuse"].as_str() {
            return Err(ConnectError(m.into()));
        }
        for r in auth["rooms"].as_array().into_iter().flatten() {
            socket.join(r.as_str().unwrap_or_default());
        }
        if auth["greet"] == true {
            let _ = socket.emit("hello", &1);
        }
        Ok(info.namespace.to_owned())
    }

    async fn event(&self, _socket: &Socket<String>, event: Event, ack: Option<AckSender>) {
        let args = Value::Array(event.args.clone()).to_string();
        lock(&self.0).push(format!("{} {args} {}", event.name, event.binary.len()));
        if let Some(ack) = ack {
            ack.send_args(&event.args, event.binary);
        }
    }

    async fn disconnect(&self, socket: &Socket<String>, reason: DisconnectReason) {
        lock(&self.0).push(format!("disconnect {} {reason}", socket.state()));
    }
}

struct Published(Log);

impl Fanout for Published {
    fn publish(&self, op: &FanoutOp) {
        lock(&self.0).push(format!("{op:?}"));
    }
}

pub(crate) struct Fixture {
    pub(crate) engine: Engine,
    seen: Log,
    published: Log,
}

/// An engine with namespaces `/` and `/admin`.
pub(crate) fn fixture(config: EngineConfig) -> Fixture {
    let (seen, published) = (Log::default(), Log::default());
    let engine = Engine::new(config, Arc::new(Published(published.clone())));
    engine.namespace("/", App(seen.clone()));
    engine.namespace("admin", App(seen.clone()));
    Fixture {
        engine,
        seen,
        published,
    }
}

impl Fixture {
    /// A new websocket connection (no namespace yet).
    pub(crate) fn conn(&self) -> Arc<EConn> {
        let conn = session(&self.engine.eio, true);
        self.engine.eio.handler().on_open(&conn);
        conn
    }

    /// Hands `conn` a text message (`packet` without the Engine.IO `4`).
    pub(crate) fn text(&self, conn: &Arc<EConn>, packet: &str) {
        let msg = Message::Text(Bytes::from(format!("4{packet}")));
        self.engine.eio.handler().on_message(conn, msg);
    }

    pub(crate) fn binary(&self, conn: &Arc<EConn>, data: &'static [u8]) {
        let msg = Message::Binary(Bytes::from_static(data));
        self.engine.eio.handler().on_message(conn, msg);
    }

    /// Connects `conn` to `nsp` with `auth`; the socket once `connect` ran.
    pub(crate) async fn join(&self, conn: &Arc<EConn>, nsp: &str, auth: Value) -> SocketRef {
        let prefix = if nsp == "/" {
            String::new()
        } else {
            format!("{nsp},")
        };
        self.text(conn, &format!("0{prefix}{auth}"));
        let socket = conn
            .data()
            .socket(nsp)
            .unwrap_or_else(|| panic!("no socket in {nsp}"));
        until(|| socket.connected() || conn.data().socket(nsp).is_none()).await;
        socket
    }

    /// A new connection with a socket in `/` (auth `auth`), what it was sent taken.
    pub(crate) async fn connect(&self, auth: Value) -> (Arc<EConn>, SocketRef) {
        let conn = self.conn();
        let socket = self.join(&conn, "/", auth).await;
        sent(&conn);
        (conn, socket)
    }

    /// What the application logged.
    pub(crate) fn seen(&self) -> Vec<String> {
        lock(&self.seen).clone()
    }

    /// What was handed to the fanout (`FanoutOp`s, debug-printed).
    pub(crate) fn published(&self) -> Vec<String> {
        lock(&self.published).clone()
    }
}

/// Takes what `conn` was sent, as text.
pub(crate) fn sent(conn: &EConn) -> Vec<String> {
    texts(&take_sent(conn))
}

/// Lets other tasks (socket workers) run until `done`; bounded in steps, not time.
pub(crate) async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("not done after 10000 yields");
}

/// Refuses every socket.
pub(crate) struct Refuser;

impl Handler for Refuser {
    type State = ();

    async fn connect(
        &self,
        _socket: &SocketRef,
        _info: ConnectInfo<'_>,
    ) -> Result<(), ConnectError> {
        Err(ConnectError("refused".into()))
    }

    async fn event(&self, _socket: &Socket<()>, _event: Event, _ack: Option<AckSender>) {}

    async fn disconnect(&self, _socket: &Socket<()>, _reason: DisconnectReason) {}
}
