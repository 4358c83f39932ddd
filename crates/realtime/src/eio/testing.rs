//! Helpers for the unit tests of the engine: a handler that records what it is
//! told, sessions made without an HTTP request, a look at a session's outbound
//! queue, and the client's side of a websocket.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use super::{lock, CloseReason, Conn, EioConfig, EioHandler, EioServer, Frame, Message};

/// Records every callback as a line: `open`, `text <text>`, `binary <len>`,
/// `deadline`, `close <reason>`.
#[derive(Default)]
pub(crate) struct Recorder {
    seen: Mutex<Vec<String>>,
}

impl Recorder {
    fn push(&self, line: String) {
        lock(&self.seen).push(line);
    }
}

impl EioHandler for Recorder {
    type Data = ();

    fn create(&self, _headers: &HeaderMap, _remote: Option<SocketAddr>) {}

    fn on_open(&self, _conn: &Arc<Conn<Self>>) {
        self.push("open".into());
    }

    fn on_message(&self, _conn: &Arc<Conn<Self>>, msg: Message) {
        self.push(match &msg {
            Message::Text(_) => format!("text {}", msg.text().unwrap_or("?")),
            Message::Binary(b) => format!("binary {}", b.len()),
        });
    }

    fn on_deadline(&self, _conn: &Arc<Conn<Self>>) {
        self.push("deadline".into());
    }

    fn on_close(&self, _conn: &Arc<Conn<Self>>, reason: CloseReason) {
        self.push(format!("close {}", reason.as_str()));
    }
}

/// A server with a [`Recorder`].
pub(crate) fn recorder(config: EioConfig) -> EioServer<Recorder> {
    EioServer::new(config, Recorder::default())
}

/// What the recorder of `server` saw so far.
pub(crate) fn seen(server: &EioServer<Recorder>) -> Vec<String> {
    lock(&server.handler().seen).clone()
}

/// A session of `server`, registered like one a request opened, without a
/// driver task; `ws`: a websocket session.
pub(crate) fn session<H: EioHandler>(server: &EioServer<H>, ws: bool) -> Arc<Conn<H>> {
    server.inner.new_conn(&HeaderMap::new(), None, ws)
}

/// Takes what waits in the outbound queue of `conn`.
pub(crate) fn take_sent<H: EioHandler>(conn: &Conn<H>) -> Vec<Frame> {
    lock(&conn.st).take_queue().into()
}

/// The texts of text frames (binary ones as `<binary n>`).
pub(crate) fn texts(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Text(b) => String::from_utf8_lossy(b).into_owned(),
            Frame::Binary(b) => format!("<binary {}>", b.len()),
        })
        .collect()
}

/// A client's websocket frame: masked with `mask`, final unless `fin` is false.
pub(crate) fn client_frame(fin: bool, op: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    super::ws::put_header(&mut out, op, payload.len());
    if !fin {
        out[0] &= 0x7f;
    }
    out[1] |= 0x80;
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A final client frame with a fixed mask.
pub(crate) fn masked(op: u8, payload: &[u8]) -> Vec<u8> {
    client_frame(true, op, payload, [9, 8, 7, 6])
}

/// Both ends of a loopback TCP connection: (accepted, connecting).
pub(crate) async fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = tokio::join!(l.accept(), TcpStream::connect(addr));
    let (a, _) = a.unwrap_or_else(|e| panic!("{e}"));
    (a, b.unwrap_or_else(|e| panic!("{e}")))
}

/// Reads one (unmasked, server) frame: its opcode and payload; `None` at EOF.
/// Bounded, so a test that waits for nothing fails instead of hanging.
pub(crate) async fn read_frame(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).await.ok()?;
        let len = match h[1] & 0x7f {
            126 => usize::from(s.read_u16().await.ok()?),
            127 => usize::try_from(s.read_u64().await.ok()?).ok()?,
            n => usize::from(n),
        };
        let mut p = vec![0u8; len];
        s.read_exact(&mut p).await.ok()?;
        Some((h[0] & 0x0f, p))
    })
    .await
    .unwrap_or_else(|_| panic!("no frame within 10 s"))
}
