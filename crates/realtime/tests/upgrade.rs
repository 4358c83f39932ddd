//! A server close that comes while a polling client is upgrading to a websocket:
//! the client is told, on whichever transport it uses next, and the close is a
//! close, not a transport error (socket.io-client reports "transport close", then
//! reconnects).

mod support;

use std::time::Duration;

use natter_realtime::EngineConfig;
use support::{http, polling_session, server, Client, Got, Server};

/// A connected polling session with an upgrade probe answered, closed by the server
/// (the client's event, then time for the server to act on it): (poll path, probe).
async fn closed_while_upgrading(srv: &Server) -> (String, Client) {
    let path = polling_session(srv.addr).await;
    let sid = path.rsplit("sid=").next().unwrap_or_default().to_owned();
    let mut probe = Client::websocket(
        srv.addr,
        &format!("/socket.io/?EIO=4&transport=websocket&sid={sid}"),
    )
    .await;
    probe.send("2probe").await;
    assert_eq!(probe.recv().await, Got::Text("3probe".into()));
    // the client, still polling, sends the event that makes the server close
    assert_eq!(http(srv.addr, "POST", &path, b"42[\"drop\"]").await, "ok");
    tokio::time::sleep(Duration::from_millis(100)).await;
    (path, probe)
}

#[tokio::test]
async fn a_close_during_an_upgrade_is_told_to_the_next_poll() {
    let srv = server(EngineConfig::default()).await;
    let (path, mut probe) = closed_while_upgrading(&srv).await;
    // the next poll gets the close packet (a refused poll would read as a transport error)
    assert_eq!(http(srv.addr, "GET", &path, b"").await, "1");
    // and the probe is let go
    assert_eq!(probe.closed_within(Duration::from_secs(5)).await, Got::Eof);
}

#[tokio::test]
async fn a_close_during_an_upgrade_is_told_on_the_websocket_once_it_is_upgraded() {
    let srv = server(EngineConfig::default()).await;
    let (_path, mut probe) = closed_while_upgrading(&srv).await;
    // the client had paused polling for the upgrade: it completes it and hears the
    // close there, as a normal websocket close
    probe.send("5").await;
    assert_eq!(
        probe.closed_within(Duration::from_secs(5)).await,
        Got::Close(1000)
    );
    for _ in 0..100 {
        if srv.engine.connection_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the session outlived its close");
}
