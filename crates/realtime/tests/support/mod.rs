//! What the engine's socket-level tests share: a test server (an echoing handler
//! whose events can be held back by a gate, and a `drop` event that closes the
//! connection from the server), a raw websocket client and a one-shot HTTP request.
#![allow(dead_code)] // each test file uses its own part

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Engine, EngineConfig, Event, Handler,
    NoopFanout, Socket, SocketRef,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// What a test server saw.
#[derive(Default)]
pub struct Seen {
    pub events: Mutex<Vec<(String, usize)>>,
    /// The largest inbound queue an event handler saw behind itself.
    pub max_queued: AtomicUsize,
}

struct App {
    seen: Arc<Seen>,
    /// Event handlers wait for a permit (tests hold them to make handlers slow).
    gate: Arc<Semaphore>,
}

impl Handler for App {
    type State = ();

    async fn connect(
        &self,
        _socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> Result<(), ConnectError> {
        if info.auth.and_then(|a| a.get("ok")).is_some() {
            Ok(())
        } else {
            Err(ConnectError("refused".into()))
        }
    }

    async fn event(&self, socket: &Socket<()>, event: Event, ack: Option<AckSender>) {
        self.seen
            .max_queued
            .fetch_max(socket.queued_events(), Ordering::SeqCst);
        if let Ok(p) = self.gate.acquire().await {
            p.forget();
        }
        if event.name == "drop" {
            // the server application closes the whole connection
            socket.close_connection();
            return;
        }
        let bytes: usize = event.binary.iter().map(|b| b.len()).sum();
        if let Ok(mut v) = self.seen.events.lock() {
            v.push((event.name.clone(), bytes));
        }
        if let Some(ack) = ack {
            ack.send(&json!({ "ok": event.name, "args": event.args, "bytes": bytes }));
        }
    }

    async fn disconnect(&self, _socket: &Socket<()>, _reason: DisconnectReason) {}

    async fn invalid_event(&self, _socket: &Socket<()>, name: String, ack: Option<AckSender>) {
        if let Some(ack) = ack {
            ack.send(&json!({ "invalid": name }));
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub engine: Engine,
    pub seen: Arc<Seen>,
    pub gate: Arc<Semaphore>,
}

pub async fn server(config: EngineConfig) -> Server {
    server_gated(config, Semaphore::MAX_PERMITS).await
}

/// Serves `engine`'s router on a free loopback port.
pub async fn listen(engine: &Engine) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let app = engine.router();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A server whose event handlers run only as permits are added to its gate.
pub async fn server_gated(config: EngineConfig, permits: usize) -> Server {
    let engine = Engine::new(config, Arc::new(NoopFanout));
    let seen = Arc::new(Seen::default());
    let gate = Arc::new(Semaphore::new(permits));
    engine.namespace(
        "/",
        App {
            seen: seen.clone(),
            gate: gate.clone(),
        },
    );
    let addr = listen(&engine).await;
    Server {
        addr,
        engine,
        seen,
        gate,
    }
}

#[derive(Debug, PartialEq)]
pub enum Got {
    Text(String),
    Binary(usize),
    Close(u16),
    Pong,
    /// The TCP connection ended.
    Eof,
}

pub struct Client {
    pub s: TcpStream,
    pub buf: BytesMut,
}

impl Client {
    /// A new websocket-only connection, its open packet read.
    pub async fn open(addr: SocketAddr) -> Client {
        let mut c = Client::websocket(addr, "/socket.io/?EIO=4&transport=websocket").await;
        let open = c.recv().await;
        assert!(
            matches!(&open, Got::Text(t) if t.starts_with("0{\"sid\"")),
            "{open:?}"
        );
        c
    }

    /// A websocket to `path` (an upgrade probe when it names a polling session's sid).
    pub async fn websocket(addr: SocketAddr, path: &str) -> Client {
        let mut s = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        s.write_all(req.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("write: {e}"));
        let mut c = Client {
            s,
            buf: BytesMut::new(),
        };
        loop {
            assert!(c.fill(Duration::from_secs(5)).await, "closed in handshake");
            if let Some(p) = c.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                assert!(c.buf.starts_with(b"HTTP/1.1 101"));
                c.buf.advance(p + 4);
                break;
            }
        }
        c
    }

    /// Opens and connects the main namespace.
    pub async fn connected(addr: SocketAddr) -> Client {
        let mut c = Client::open(addr).await;
        c.send("40{\"ok\":1}").await;
        let got = c.recv().await;
        assert!(
            matches!(&got, Got::Text(t) if t.starts_with("40{\"sid\"")),
            "{got:?}"
        );
        c
    }

    /// Reads more; `false` at EOF.
    pub async fn fill(&mut self, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.s.read_buf(&mut self.buf)).await {
            Ok(Ok(n)) => n > 0,
            Ok(Err(_)) => false,
            Err(_) => panic!("read timed out after {wait:?}"),
        }
    }

    pub fn frame(op: u8, payload: &[u8]) -> Vec<u8> {
        masked_frame(op, payload)
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        self.s
            .write_all(bytes)
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    pub async fn send(&mut self, text: &str) {
        self.write(&Self::frame(1, text.as_bytes())).await;
    }

    pub async fn send_binary(&mut self, data: &[u8]) {
        self.write(&Self::frame(2, data)).await;
    }

    /// The next frame (pings skipped), waiting up to `wait`.
    pub async fn recv_within(&mut self, wait: Duration) -> Got {
        loop {
            if let Some(got) = self.parse() {
                return got;
            }
            if !self.fill(wait).await {
                return Got::Eof;
            }
        }
    }

    /// A frame that came already, without waiting (beyond a brief read).
    pub async fn try_recv(&mut self) -> Option<Got> {
        if let Some(got) = self.parse() {
            return Some(got);
        }
        match tokio::time::timeout(Duration::from_millis(2), self.s.read_buf(&mut self.buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => Some(Got::Eof),
            Ok(Ok(_)) => self.parse(),
            Err(_) => None,
        }
    }

    /// One complete frame from the buffer (Engine.IO pings skipped).
    pub fn parse(&mut self) -> Option<Got> {
        loop {
            if self.buf.len() >= 2 {
                let op = self.buf[0] & 0x0f;
                let (hdr, len) = match self.buf[1] & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (4, u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize)
                    }
                    127 if self.buf.len() >= 10 => {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(&self.buf[2..10]);
                        (10, u64::from_be_bytes(a) as usize)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (2, n as usize),
                };
                if hdr != usize::MAX && self.buf.len() >= hdr + len {
                    self.buf.advance(hdr);
                    let p = self.buf.split_to(len);
                    match op {
                        1 if &p[..] == b"2" => continue,
                        1 => return Some(Got::Text(String::from_utf8_lossy(&p).into_owned())),
                        2 => return Some(Got::Binary(p.len())),
                        8 => {
                            let code = if p.len() >= 2 {
                                u16::from_be_bytes([p[0], p[1]])
                            } else {
                                0
                            };
                            return Some(Got::Close(code));
                        }
                        0xA => return Some(Got::Pong),
                        _ => continue,
                    }
                }
            }
            return None;
        }
    }

    pub async fn recv(&mut self) -> Got {
        self.recv_within(Duration::from_secs(5)).await
    }

    /// Waits (bounded) for the server to close: a close frame or EOF, skipping
    /// anything else.
    pub async fn closed_within(&mut self, wait: Duration) -> Got {
        loop {
            match self.recv_within(wait).await {
                g @ (Got::Close(_) | Got::Eof) => return g,
                _ => continue,
            }
        }
    }
}

/// A client's (masked) websocket frame.
pub fn masked_frame(op: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let mut f = vec![0x80 | op];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n <= 0xffff => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// A polling session connected to the main namespace: the path its requests use.
pub async fn polling_session(addr: SocketAddr) -> String {
    let open = http(addr, "GET", "/socket.io/?EIO=4&transport=polling", b"").await;
    let open: serde_json::Value = serde_json::from_str(open.trim_start_matches('0'))
        .unwrap_or_else(|e| panic!("{open}: {e}"));
    let sid = open["sid"].as_str().unwrap_or_default().to_owned();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(http(addr, "POST", &path, b"40{\"ok\":1}").await, "ok");
    assert!(http(addr, "GET", &path, b"")
        .await
        .starts_with("40{\"sid\""));
    path
}

/// One HTTP/1.1 request on its own connection; the response body.
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    s.write_all(body)
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {path}"))
        .unwrap_or_else(|e| panic!("read: {e}"));
    let text = String::from_utf8_lossy(&out).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((_, body)) => body.to_owned(),
        None => panic!("not HTTP: {text}"),
    }
}
