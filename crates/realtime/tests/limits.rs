//! Resource limits of the engine, over real sockets with the raw websocket client
//! of `support`: the connect timeout (also after a refusal or a namespace
//! disconnect), the size of a pending binary packet, lone surrogates refused per
//! event, and the bound on a socket's inbound event queue.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use natter_realtime::EngineConfig;
use serde_json::json;
use support::{http, polling_session, server, server_gated, Client, Got, Server};

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
    let path = polling_session(srv.addr).await;

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
