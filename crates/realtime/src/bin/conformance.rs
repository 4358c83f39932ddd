//! The conformance server: a raw Engine.IO echo at `/engine.io/` and Socket.IO at
//! `/socket.io/`, configured as the official test suites of
//! `socketio/engine.io-protocol` and `socketio/socket.io-protocol` expect
//! (pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, connectTimeout 1 s,
//! CORS `*`). Listens on 127.0.0.1 and ::1, port `$PORT` (default 3000).
//!
//! Namespaces: `/` and `/custom` as the suite wants; `/interop` for the interop
//! tests (auth check, echo, acks both ways, rooms, broadcast-except, binary).
//! Env overrides: `PING_INTERVAL_MS`, `PING_TIMEOUT_MS`, `MAX_PAYLOAD`,
//! `OUTBOUND_LIMIT_BYTES`, `CONNECT_TIMEOUT_MS`.

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use std::sync::Arc;
use std::time::Duration;

use natter_realtime::eio::{CloseReason, Conn, EioConfig, EioHandler, EioServer, Frame, Message};
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Engine, EngineConfig, Event, Handler,
    NoopFanout, Socket, SocketRef,
};
use serde_json::{json, Value};

struct Echo;

impl EioHandler for Echo {
    type Data = ();
    fn create(&self, _: &http::HeaderMap, _: Option<SocketAddr>) {}
    fn on_message(&self, conn: &Arc<Conn<Self>>, msg: Message) {
        let frame = match msg {
            Message::Text(b) => Frame::Text(b),
            Message::Binary(b) => Frame::Binary(b),
        };
        let _ = conn.send(frame);
    }
    fn on_close(&self, _: &Arc<Conn<Self>>, _: CloseReason) {}
}

/// `/` of the Socket.IO suite.
struct Main;

impl Handler for Main {
    type State = ();

    async fn connect(&self, socket: &SocketRef, info: ConnectInfo<'_>) -> Result<(), ConnectError> {
        let empty = json!({});
        let _ = socket.emit("auth", info.auth.unwrap_or(&empty));
        Ok(())
    }

    async fn event(&self, socket: &Socket<()>, event: Event, ack: Option<AckSender>) {
        match event.name.as_str() {
            "message" => {
                let _ = socket.emit_args("message-back", &event.args, event.binary);
            }
            "message-with-ack" => {
                if let Some(ack) = ack {
                    ack.send_args(&event.args, event.binary);
                }
            }
            _ => {}
        }
    }

    async fn disconnect(&self, _: &Socket<()>, _: DisconnectReason) {}
}

/// `/custom` of the Socket.IO suite.
struct Custom;

impl Handler for Custom {
    type State = ();

    async fn connect(&self, socket: &SocketRef, info: ConnectInfo<'_>) -> Result<(), ConnectError> {
        let empty = json!({});
        let _ = socket.emit("auth", info.auth.unwrap_or(&empty));
        Ok(())
    }

    async fn event(&self, _: &Socket<()>, _: Event, _: Option<AckSender>) {}

    async fn disconnect(&self, _: &Socket<()>, _: DisconnectReason) {}
}

/// `/interop`: what the client interop tests exercise.
struct Interop {
    engine: Engine,
}

struct User {
    name: String,
}

impl Handler for Interop {
    type State = User;

    async fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> Result<User, ConnectError> {
        let auth = info.auth.cloned().unwrap_or(Value::Null);
        if auth.get("token").and_then(Value::as_str) != Some("secret") {
            return Err(ConnectError("bad token".into()));
        }
        let name = auth
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("anon")
            .to_owned();
        if let Some(room) = auth.get("room").and_then(Value::as_str) {
            socket.join(room);
        }
        // emitted before the CONNECT answer is sent: delivered right after it
        let _ = socket.emit("welcome", &json!({ "id": socket.id(), "name": name }));
        Ok(User { name })
    }

    async fn event(&self, socket: &Socket<User>, event: Event, ack: Option<AckSender>) {
        let data = event.args.first().cloned().unwrap_or(Value::Null);
        match event.name.as_str() {
            "echo" => match ack {
                Some(ack) => ack.send_args(&event.args, event.binary),
                None => {
                    let _ = socket.emit_args("echo", &event.args, event.binary);
                }
            },
            "whoami" => {
                if let Some(ack) = ack {
                    ack.send(&json!({ "id": socket.id(), "name": socket.state().name, "rooms": socket.rooms() }));
                }
            }
            "join" => {
                if let Some(room) = data.as_str() {
                    socket.join(room);
                }
                if let Some(ack) = ack {
                    ack.send(&json!({ "ok": true, "rooms": socket.rooms() }));
                }
            }
            "leave" => {
                if let Some(room) = data.as_str() {
                    socket.leave(room);
                }
                if let Some(ack) = ack {
                    ack.send(&json!({ "ok": true }));
                }
            }
            "broadcast-except" => {
                let room = data.get("room").and_then(Value::as_str).unwrap_or("");
                let payload = data.get("data").cloned().unwrap_or(Value::Null);
                let r = self
                    .engine
                    .to("/interop", room)
                    .except_socket(socket.id())
                    .emit(
                        "broadcast",
                        &json!({ "from": socket.state().name, "data": payload }),
                    );
                if let Some(ack) = ack {
                    ack.send(&json!({ "ok": r.is_ok(), "members": self.engine.local_sockets_in("/interop", room) }));
                }
            }
            "ask-client" => {
                let reply = socket
                    .emit_with_ack("question", &data, Duration::from_secs(5))
                    .await;
                let answer = match reply {
                    Ok(args) => json!({ "ok": true, "args": args }),
                    Err(e) => json!({ "ok": false, "error": e.to_string() }),
                };
                if let Some(ack) = ack {
                    ack.send(&answer);
                } else {
                    let _ = socket.emit("answer", &answer);
                }
            }
            "disconnect-me" => socket.disconnect(),
            "drop-transport" => socket.close_connection(),
            _ => {
                if let Some(ack) = ack {
                    ack.send(&json!({ "ok": false, "error": "unknown event" }));
                }
            }
        }
    }

    async fn disconnect(&self, _: &Socket<User>, _: DisconnectReason) {}
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let ping_interval = env_ms("PING_INTERVAL_MS", 300);
    let ping_timeout = env_ms("PING_TIMEOUT_MS", 200);
    let max_payload = env_usize("MAX_PAYLOAD", 1_000_000);
    let outbound_limit_bytes = env_usize("OUTBOUND_LIMIT_BYTES", 4 * 1024 * 1024);

    let eio = EioServer::new(
        EioConfig {
            ping_interval,
            ping_timeout,
            max_payload,
            cors_origin: Some("*".into()),
            outbound_limit_bytes,
        },
        Echo,
    );
    let engine = Engine::new(
        EngineConfig {
            path: "/socket.io/".into(),
            ping_interval,
            ping_timeout,
            max_payload,
            cors_origin: Some("*".into()),
            connect_timeout: env_ms("CONNECT_TIMEOUT_MS", 1000),
            outbound_limit_bytes,
            ..EngineConfig::default()
        },
        Arc::new(NoopFanout),
    );
    engine.namespace("/", Main);
    engine.namespace("/custom", Custom);
    engine.namespace(
        "/interop",
        Interop {
            engine: engine.clone(),
        },
    );
    let app = eio.router("/engine.io/").merge(engine.router());

    let mut servers = Vec::new();
    for addr in [
        SocketAddr::from(([127, 0, 0, 1], port)),
        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
    ] {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                let app = app.clone();
                let l = l.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                servers.push(tokio::spawn(async move {
                    axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>()).await
                }));
            }
            Err(e) if addr.is_ipv6() => eprintln!("conformance: not listening on {addr}: {e}"),
            Err(e) => return Err(e),
        }
    }
    println!("conformance: listening on port {port}");
    for s in servers {
        match s.await {
            Ok(r) => r?,
            Err(e) => eprintln!("conformance: listener task failed: {e}"),
        }
    }
    Ok(())
}
