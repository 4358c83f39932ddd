//! The HTTP listener over real sockets: a slowloris client and an idle
//! keep-alive connection are closed after the header timeout, the connection
//! caps refuse the N+1th connection (a websocket keeps its slot), handlers see
//! the peer address, and shutdown is graceful.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use natter_realtime::{Engine, EngineConfig, NoopFanout};
use natter_server::listener::{serve, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct Server {
    addr: SocketAddr,
    /// Notified when `/slow` starts.
    slow_started: Arc<tokio::sync::Notify>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: Limits) -> Server {
    let engine = Engine::new(EngineConfig::default(), Arc::new(NoopFanout));
    let slow_started = Arc::new(tokio::sync::Notify::new());
    let started = slow_started.clone();
    let router = Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route(
            "/slow",
            get(move || async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(500)).await;
                "done"
            }),
        )
        .merge(engine.router());
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, router, limits, async {
        let _ = rx.await;
    }));
    Server {
        addr,
        slow_started,
        stop: Some(tx),
        done,
    }
}

fn limits() -> Limits {
    Limits {
        header_timeout: Some(Duration::from_millis(400)),
        max_connections: 0,
        max_per_ip: 0,
        exempt_loopback: true,
    }
}

/// Reads until EOF (or error), bounded; what came.
async fn read_all(s: &mut TcpStream, wait: Duration) -> String {
    let mut out = Vec::new();
    let r = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(r.is_ok(), "the connection was not closed within {wait:?}");
    String::from_utf8_lossy(&out).into_owned()
}

/// One request on a fresh connection, kept open; the response head and body.
async fn request(addr: SocketAddr, path: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no answer to {path}"))
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= len {
                break;
            }
        }
    }
    (s, String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn a_slowloris_client_is_closed_after_the_header_timeout() {
    let srv = start(limits()).await;
    let mut s = TcpStream::connect(srv.addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let head = format!(
        "GET /peer HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(60)
    );
    // one byte every 50 ms: the whole head would take several seconds
    let mut closed_at = None;
    for (i, b) in head.bytes().enumerate() {
        if s.write_all(&[b]).await.is_err() {
            closed_at = Some(i);
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                // an answer (408) or EOF before the head was complete
                closed_at = Some(i);
                break;
            }
            Err(_) => {}
        }
    }
    let at = closed_at.unwrap_or_else(|| panic!("the server waited for the whole slow head"));
    assert!(at < head.len() - 1, "closed at byte {at} of {}", head.len());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_but_a_long_request_is_not() {
    let srv = start(limits()).await;
    let (mut s, answer) = request(srv.addr, "/peer").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with("127.0.0.1"),
        "ConnectInfo reaches handlers: {answer}"
    );
    // nothing more sent: closed after the timeout
    read_all(&mut s, Duration::from_secs(5)).await;
    // a handler that takes longer than the timeout still answers
    let (_s, answer) = request(srv.addr, "/slow").await;
    assert!(answer.ends_with("done"), "{answer}");
}

#[tokio::test]
async fn the_total_cap_refuses_the_next_connection_and_a_websocket_keeps_its_slot() {
    let srv = start(Limits {
        header_timeout: Some(Duration::from_secs(10)),
        max_connections: 2,
        ..limits()
    })
    .await;
    let (_a, answer) = request(srv.addr, "/peer").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // an upgraded websocket (the engine keeps the stream) still counts
    let mut ws = TcpStream::connect(srv.addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    ws.write_all(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), ws.read(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("no 101"))
        .unwrap_or(0);
    assert!(buf[..n].starts_with(b"HTTP/1.1 101"));

    let (mut third, answer) = request(srv.addr, "/peer").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    read_all(&mut third, Duration::from_secs(5)).await;

    // the websocket goes: its slot is free again (bounded wait for the engine)
    drop(ws);
    let mut ok = false;
    for _ in 0..100 {
        let (_s, answer) = request(srv.addr, "/peer").await;
        if answer.starts_with("HTTP/1.1 200") {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "the websocket's slot was not given back");
}

#[tokio::test]
async fn the_per_address_cap_refuses_the_next_connection_from_that_address() {
    let srv = start(Limits {
        header_timeout: Some(Duration::from_secs(10)),
        max_per_ip: 1,
        exempt_loopback: false,
        ..limits()
    })
    .await;
    let (a, answer) = request(srv.addr, "/peer").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_b, answer) = request(srv.addr, "/peer").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(a);
    let mut ok = false;
    for _ in 0..100 {
        let (_s, answer) = request(srv.addr, "/peer").await;
        if answer.starts_with("HTTP/1.1 200") {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the slot was not given back");

    // loopback exempt (the default): many connections from 127.0.0.1 are fine
    let srv = start(Limits {
        header_timeout: Some(Duration::from_secs(10)),
        max_per_ip: 1,
        ..limits()
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..5 {
        let (s, answer) = request(srv.addr, "/peer").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        open.push(s);
    }
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let mut srv = start(limits()).await;
    let addr = srv.addr;
    let slow = tokio::spawn(async move { request(addr, "/slow").await.1 });
    tokio::time::timeout(Duration::from_secs(5), srv.slow_started.notified())
        .await
        .unwrap_or_else(|_| panic!("/slow did not start"));
    if let Some(stop) = srv.stop.take() {
        let _ = stop.send(());
    }
    let answer = slow.await.unwrap_or_default();
    assert!(answer.ends_with("done"), "{answer}");
    let r = tokio::time::timeout(Duration::from_secs(5), srv.done).await;
    assert!(matches!(r, Ok(Ok(Ok(())))), "serve did not return: {r:?}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}
