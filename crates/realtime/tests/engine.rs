//! The engine end to end over a real socket, with a handler written the way the
//! server crate writes its own (async fns, `&String` rooms), plus `apply_remote`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Engine, EngineConfig, Event, Fanout,
    FanoutAction, FanoutOp, Handler, Socket, SocketRef,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Default)]
struct Recorder(Mutex<Vec<FanoutOp>>);

impl Fanout for Recorder {
    fn publish(&self, op: &FanoutOp) {
        if let Ok(mut v) = self.0.lock() {
            v.push(op.clone());
        }
    }
}

struct Chat {
    engine: Engine,
    disconnects: Arc<AtomicUsize>,
}

struct Session {
    user: String,
}

fn room(n: u32) -> String {
    format!("room:{n}")
}

impl Handler for Chat {
    type State = Session;

    async fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> Result<Session, ConnectError> {
        let user = info
            .auth
            .and_then(|a| a.get("user"))
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectError("Authentication required".into()))?
            .to_owned();
        socket.join(&room(1));
        // emitted before CONNECT is answered: must arrive right after it
        socket
            .emit("hello", &json!({ "user": user }))
            .map_err(|e| ConnectError(e.to_string()))?;
        Ok(Session { user })
    }

    async fn event(&self, socket: &Socket<Session>, event: Event, ack: Option<AckSender>) {
        match event.name.as_str() {
            "subscribe" => {
                self.engine.to("/", &room(1)).join(&[&room(2)]);
                if let Some(ack) = ack {
                    ack.send(&json!({ "rooms": socket.rooms() }));
                }
            }
            "say" => {
                let text: String = event.data().unwrap_or_default();
                let r = self
                    .engine
                    .to("/", &room(2))
                    .emit("said", &json!({ "by": socket.state().user, "text": text }));
                if let Some(ack) = ack {
                    ack.send(&r.is_ok());
                }
            }
            _ => {}
        }
    }

    async fn disconnect(&self, socket: &Socket<Session>, _reason: DisconnectReason) {
        assert!(
            socket.rooms().is_empty(),
            "rooms are left before disconnect runs"
        );
        self.disconnects.fetch_add(1, Ordering::SeqCst);
    }
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
            c.fill().await;
            if let Some(p) = c.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                assert!(c.buf.starts_with(b"HTTP/1.1 101"));
                c.buf.advance(p + 4);
                break;
            }
        }
        c
    }

    async fn fill(&mut self) {
        let n = tokio::time::timeout(Duration::from_secs(5), self.s.read_buf(&mut self.buf))
            .await
            .unwrap_or_else(|_| panic!("read timed out"))
            .unwrap_or_else(|e| panic!("read: {e}"));
        assert!(n > 0, "server closed");
    }

    async fn send(&mut self, text: &str) {
        let mut f = vec![0x81u8, 0x80 | text.len() as u8, 1, 2, 3, 4];
        f.extend(
            text.bytes()
                .enumerate()
                .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
        );
        self.s
            .write_all(&f)
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    async fn recv(&mut self) -> String {
        loop {
            if self.buf.len() >= 2
                && (self.buf[1] as usize) < 126
                && self.buf.len() >= 2 + self.buf[1] as usize
            {
                let len = self.buf[1] as usize;
                self.buf.advance(2);
                let p = self.buf.split_to(len);
                let t = String::from_utf8_lossy(&p).into_owned();
                if t != "2" {
                    return t;
                }
                continue;
            }
            self.fill().await;
        }
    }
}

#[tokio::test]
async fn connect_rooms_broadcast_remote_and_disconnect() {
    let fanout = Arc::new(Recorder::default());
    let engine = Engine::new(EngineConfig::default(), fanout.clone());
    let disconnects = Arc::new(AtomicUsize::new(0));
    engine.namespace(
        "/",
        Chat {
            engine: engine.clone(),
            disconnects: disconnects.clone(),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let app = engine.router();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // refused without auth
    let mut c = Client::open(addr).await;
    assert!(c.recv().await.starts_with("0{\"sid\""));
    c.send("40").await;
    assert_eq!(
        c.recv().await,
        "44{\"message\":\"Authentication required\"}"
    );

    let mut a = Client::open(addr).await;
    a.recv().await;
    a.send("40{\"user\":\"ada\"}").await;
    assert!(a.recv().await.starts_with("40{\"sid\":"));
    assert_eq!(a.recv().await, "42[\"hello\",{\"user\":\"ada\"}]");
    assert_eq!(engine.local_sockets_in("/", "room:1"), 1);

    a.send("421[\"subscribe\"]").await;
    assert_eq!(a.recv().await, "431[{\"rooms\":[\"room:1\",\"room:2\"]}]");
    a.send("422[\"say\",\"hi\"]").await;
    let (m1, m2) = (a.recv().await, a.recv().await);
    let mut got = [m1, m2];
    got.sort();
    assert_eq!(
        got,
        [
            "42[\"said\",{\"by\":\"ada\",\"text\":\"hi\"}]".to_owned(),
            "432[true]".to_owned()
        ]
    );

    // every op reached the fanout once, after local application
    let ops = fanout.0.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(ops.len(), 2);
    assert!(matches!(&ops[0].action, FanoutAction::Join(r) if r == &vec!["room:2".to_owned()]));
    let FanoutAction::Emit { packet, .. } = &ops[1].action else {
        panic!("expected an emit, got {:?}", ops[1].action);
    };
    assert_eq!(
        &packet[..],
        b"42[\"said\",{\"by\":\"ada\",\"text\":\"hi\"}]"
    );

    // an op from another node, decoded from the wire, reaches the local member
    let remote = FanoutOp {
        namespace: "/".into(),
        rooms: vec!["room:2".into()],
        except_rooms: vec![],
        except_sockets: vec![],
        action: FanoutAction::Emit {
            packet: bytes::Bytes::from_static(b"42[\"remote\",1]"),
            attachments: vec![],
        },
    };
    engine.apply_remote(FanoutOp::decode(&remote.encode()).unwrap_or_else(|| panic!("decode")));
    assert_eq!(a.recv().await, "42[\"remote\",1]");
    assert_eq!(
        fanout.0.lock().map(|v| v.len()).unwrap_or(0),
        2,
        "remote ops are not republished"
    );

    // client namespace disconnect: rooms left, handler runs once
    a.send("41").await;
    for _ in 0..100 {
        if disconnects.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(disconnects.load(Ordering::SeqCst), 1);
    assert_eq!(engine.local_sockets_in("/", "room:1"), 0);
    assert_eq!(engine.connection_count(), 2);
    engine.shutdown().await;
    assert_eq!(engine.connection_count(), 0);
}
