//! The engine end to end over a real socket, with a handler written the way the
//! server crate writes its own (async fns, `&String` rooms), plus `apply_remote`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Engine, EngineConfig, Event, Fanout,
    FanoutAction, FanoutOp, Handler, Socket, SocketRef,
};
use serde_json::{json, Value};
use support::{listen, Client, Got};

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

/// The next text frame (pings skipped).
async fn text(c: &mut Client) -> String {
    match c.recv().await {
        Got::Text(t) => t,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// A websocket-only connection, nothing read yet.
async fn open(addr: std::net::SocketAddr) -> Client {
    Client::websocket(addr, "/socket.io/?EIO=4&transport=websocket").await
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
    let addr = listen(&engine).await;

    // refused without auth
    let mut c = open(addr).await;
    assert!(text(&mut c).await.starts_with("0{\"sid\""));
    c.send("40").await;
    assert_eq!(
        text(&mut c).await,
        "44{\"message\":\"Authentication required\"}"
    );

    let mut a = open(addr).await;
    text(&mut a).await;
    a.send("40{\"user\":\"ada\"}").await;
    assert!(text(&mut a).await.starts_with("40{\"sid\":"));
    assert_eq!(text(&mut a).await, "42[\"hello\",{\"user\":\"ada\"}]");
    assert_eq!(engine.local_sockets_in("/", "room:1"), 1);

    a.send("421[\"subscribe\"]").await;
    assert_eq!(
        text(&mut a).await,
        "431[{\"rooms\":[\"room:1\",\"room:2\"]}]"
    );
    a.send("422[\"say\",\"hi\"]").await;
    let (m1, m2) = (text(&mut a).await, text(&mut a).await);
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
    assert_eq!(text(&mut a).await, "42[\"remote\",1]");
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
