//! Resource limits of the engine, over real sockets with a raw websocket client
//! written here: the connect timeout (also after a refusal or a namespace
//! disconnect), the size of a pending binary packet, lone surrogates refused per
//! event, and the bound on a socket's inbound event queue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Engine, EngineConfig, Event, Handler,
    NoopFanout, Socket, SocketRef,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// What a test server saw.
#[derive(Default)]
struct Seen {
    events: Mutex<Vec<(String, usize)>>,
    /// The largest inbound queue an event handler saw behind itself.
    max_queued: AtomicUsize,
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

struct Server {
    addr: SocketAddr,
    engine: Engine,
    seen: Arc<Seen>,
    gate: Arc<Semaphore>,
}

async fn server(config: EngineConfig) -> Server {
    server_gated(config, Semaphore::MAX_PERMITS).await
}

/// A server whose event handlers run only as permits are added to its gate.
async fn server_gated(config: EngineConfig, permits: usize) -> Server {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let app = engine.router();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        addr,
        engine,
        seen,
        gate,
    }
}

#[derive(Debug, PartialEq)]
enum Got {
    Text(String),
    Binary(usize),
    Close(u16),
    Pong,
    /// The TCP connection ended.
    Eof,
}

struct Client {
    s: TcpStream,
    buf: BytesMut,
}

impl Client {
    async fn open(addr: SocketAddr) -> Client {
        let mut s = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
        let req = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
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
        let open = c.recv().await;
        assert!(
            matches!(&open, Got::Text(t) if t.starts_with("0{\"sid\"")),
            "{open:?}"
        );
        c
    }

    /// Opens and connects the main namespace.
    async fn connected(addr: SocketAddr) -> Client {
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
    async fn fill(&mut self, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.s.read_buf(&mut self.buf)).await {
            Ok(Ok(n)) => n > 0,
            Ok(Err(_)) => false,
            Err(_) => panic!("read timed out after {wait:?}"),
        }
    }

    fn frame(op: u8, payload: &[u8]) -> Vec<u8> {
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

    async fn write(&mut self, bytes: &[u8]) {
        self.s
            .write_all(bytes)
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    async fn send(&mut self, text: &str) {
        self.write(&Self::frame(1, text.as_bytes())).await;
    }

    async fn send_binary(&mut self, data: &[u8]) {
        self.write(&Self::frame(2, data)).await;
    }

    /// The next frame (pings skipped), waiting up to `wait`.
    async fn recv_within(&mut self, wait: Duration) -> Got {
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
    async fn try_recv(&mut self) -> Option<Got> {
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
    fn parse(&mut self) -> Option<Got> {
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

    async fn recv(&mut self) -> Got {
        self.recv_within(Duration::from_secs(5)).await
    }

    /// Waits (bounded) for the server to close: a close frame or EOF, skipping
    /// anything else.
    async fn closed_within(&mut self, wait: Duration) -> Got {
        loop {
            match self.recv_within(wait).await {
                g @ (Got::Close(_) | Got::Eof) => return g,
                _ => continue,
            }
        }
    }
}

fn config() -> EngineConfig {
    EngineConfig {
        connect_timeout: Duration::from_millis(300),
        ..EngineConfig::default()
    }
}

#[tokio::test]
async fn a_connection_without_a_namespace_is_closed_after_connect_timeout() {
    let srv = server(config()).await;
    // never sends CONNECT
    let mut idle = Client::open(srv.addr).await;
    assert_eq!(
        idle.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );

    // refused: CONNECT_ERROR, then the connection goes too
    let mut refused = Client::open(srv.addr).await;
    refused.send("40").await;
    assert_eq!(
        refused.recv().await,
        Got::Text("44{\"message\":\"refused\"}".into())
    );
    assert_eq!(
        refused.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );

    // an unknown namespace is refused the same way
    let mut unknown = Client::open(srv.addr).await;
    unknown.send("40/nope,").await;
    assert_eq!(
        unknown.recv().await,
        Got::Text("44/nope,{\"message\":\"Invalid namespace\"}".into())
    );
    assert_eq!(
        unknown.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );

    // connected, then left its only namespace: the timer starts again
    let mut left = Client::connected(srv.addr).await;
    left.send("41").await;
    assert_eq!(
        left.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );

    // a connected socket outlives the timeout: an ack after it still comes
    let mut ok = Client::connected(srv.addr).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    ok.send("421[\"still\"]").await;
    assert_eq!(
        ok.recv().await,
        Got::Text("431[{\"args\":[],\"bytes\":0,\"ok\":\"still\"}]".into())
    );
    for _ in 0..100 {
        if srv.engine.connection_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(srv.engine.connection_count(), 1);
}

#[tokio::test]
async fn a_binary_packet_is_held_to_max_payload_in_total() {
    let srv = server(EngineConfig {
        max_payload: 1_000,
        ..config()
    })
    .await;
    let ph = |n: usize| json!({"_placeholder": true, "num": n}).to_string();

    // within the limit: delivered with its attachments
    let mut c = Client::connected(srv.addr).await;
    c.send(&format!("451-1[\"up\",{}]", ph(0))).await;
    c.send_binary(&[7; 600]).await;
    let got = c.recv().await;
    assert!(
        matches!(&got, Got::Text(t) if t.contains("\"bytes\":600")),
        "{got:?}"
    );

    // three attachments of 600 bytes: each message fits, the packet does not
    let mut c = Client::connected(srv.addr).await;
    c.send(&format!("453-2[\"big\",{},{},{}]", ph(0), ph(1), ph(2)))
        .await;
    for _ in 0..3 {
        c.send_binary(&[7; 600]).await;
    }
    assert_eq!(
        c.closed_within(Duration::from_secs(5)).await,
        Got::Close(1009)
    );
    let events = srv
        .seen
        .events
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default();
    assert!(events.iter().all(|(name, _)| name != "big"), "{events:?}");

    // more attachments than allowed are refused from the header
    let mut c = Client::connected(srv.addr).await;
    c.send("465-[\"many\"]").await;
    assert_eq!(
        c.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );
}

#[tokio::test]
async fn a_lone_surrogate_refuses_that_event_only() {
    let srv = server(config()).await;
    let mut c = Client::connected(srv.addr).await;
    // the high half of 😀 on its own (what cutting a string in UTF-16 gives)
    c.send(r#"421["say",{"text":"hi \ud83d"}]"#).await;
    assert_eq!(
        c.recv().await,
        Got::Text(r#"431[{"invalid":"say"}]"#.into())
    );
    // the connection is up, in order, and a proper pair is fine
    c.send(r#"422["say","\ud83d\ude00"]"#).await;
    assert_eq!(
        c.recv().await,
        Got::Text("432[{\"args\":[\"\u{1f600}\"],\"bytes\":0,\"ok\":\"say\"}]".into())
    );
    // the same in a binary event, refused once its attachment is in
    c.send(&format!(
        r#"451-3["up","\udc00",{}]"#,
        json!({"_placeholder": true, "num": 0})
    ))
    .await;
    c.send_binary(&[1, 2, 3]).await;
    assert_eq!(c.recv().await, Got::Text(r#"433[{"invalid":"up"}]"#.into()));
    // broken JSON of any other kind still closes the connection (the protocol)
    c.send(r#"424["say","#).await;
    assert_eq!(
        c.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );
    let events = srv
        .seen
        .events
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default();
    assert_eq!(events, vec![("say".to_owned(), 0)]);
}

/// Waits (bounded) until the handlers have seen `n` events.
async fn handled(srv: &Server, n: usize) {
    for _ in 0..500 {
        if srv.seen.events.lock().map(|v| v.len()).unwrap_or(0) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the handlers did not reach {n} events");
}

fn assert_in_order(srv: &Server, n: usize) {
    let names: Vec<String> = srv
        .seen
        .events
        .lock()
        .map(|v| v.iter().map(|(name, _)| name.clone()).collect())
        .unwrap_or_default();
    let want: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
    assert_eq!(names, want);
}

const LIMIT: usize = 8;
const FLOOD: usize = 200;

#[tokio::test]
async fn a_websocket_flood_is_read_only_as_fast_as_the_handlers_run() {
    let srv = server_gated(
        EngineConfig {
            max_queued_events: LIMIT,
            ..config()
        },
        0,
    )
    .await;
    let mut c = Client::connected(srv.addr).await;
    // the events, then a websocket ping: its pong tells the server read that far
    let mut burst = Vec::new();
    for i in 0..FLOOD {
        burst.extend(Client::frame(1, format!("42[\"e{i}\"]").as_bytes()));
    }
    burst.extend(Client::frame(9, b"p"));
    c.write(&burst).await;
    let mut released = 0;
    let pong_after = loop {
        match c.try_recv().await {
            Some(Got::Pong) => break released,
            Some(other) => panic!("unexpected {other:?}"),
            None => {}
        }
        assert!(released <= FLOOD, "no pong after every event was handled");
        srv.gate.add_permits(1);
        released += 1;
        handled(&srv, released.min(FLOOD)).await;
    };
    // the ping is read only once the queue in front of it drained to its bound
    assert!(
        pong_after >= FLOOD - LIMIT - 1,
        "the server read the ping after only {pong_after} events were handled"
    );
    let most = srv.seen.max_queued.load(Ordering::SeqCst);
    assert!(most <= LIMIT, "{most} events were queued");
    srv.gate.add_permits(FLOOD);
    handled(&srv, FLOOD).await;
    assert_in_order(&srv, FLOOD);
}

/// One HTTP/1.1 request on its own connection; the response body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> String {
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

#[tokio::test]
async fn a_polling_flood_is_answered_only_as_fast_as_the_handlers_run() {
    let srv = server_gated(
        EngineConfig {
            max_queued_events: LIMIT,
            ..config()
        },
        0,
    )
    .await;
    let open = http(srv.addr, "GET", "/socket.io/?EIO=4&transport=polling", b"").await;
    let open: Value = serde_json::from_str(open.trim_start_matches('0'))
        .unwrap_or_else(|e| panic!("{open}: {e}"));
    let sid = open["sid"].as_str().unwrap_or_default().to_owned();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(http(srv.addr, "POST", &path, b"40{\"ok\":1}").await, "ok");
    assert!(http(srv.addr, "GET", &path, b"")
        .await
        .starts_with("40{\"sid\""));

    let payload: Vec<String> = (0..FLOOD).map(|i| format!("42[\"e{i}\"]")).collect();
    let body = payload.join("\u{1e}");
    let addr = srv.addr;
    let post_path = path.clone();
    let post = tokio::spawn(async move { http(addr, "POST", &post_path, body.as_bytes()).await });
    let mut released = 0;
    while !post.is_finished() {
        assert!(
            released <= FLOOD,
            "the POST was not answered after every event"
        );
        srv.gate.add_permits(1);
        released += 1;
        handled(&srv, released.min(FLOOD)).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        released >= FLOOD - LIMIT - 1,
        "the POST was answered after only {released} events were handled"
    );
    assert_eq!(post.await.unwrap_or_default(), "ok");
    let most = srv.seen.max_queued.load(Ordering::SeqCst);
    assert!(most <= LIMIT, "{most} events were queued");
    srv.gate.add_permits(FLOOD);
    handled(&srv, FLOOD).await;
    assert_in_order(&srv, FLOOD);
}
