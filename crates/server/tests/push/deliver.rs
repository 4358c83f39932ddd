//! The node hands every push to its `Deliver` part; here a recorder stands in
//! for the push services, so the dispatcher's output is checked without one:
//! whom a message notifies (levels), to which subscription, with what topic
//! and payload.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use natter_server::config::{FilesArgs, PushArgs};
use natter_server::push::sender::{Deliver, Delivery};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};
use crate::{sub, subscribe, user};

#[derive(Default)]
struct Recorder(Mutex<Vec<Delivery>>);

#[async_trait]
impl Deliver for Recorder {
    async fn deliver(&self, d: Delivery) {
        self.0.lock().unwrap().push(d);
    }
}

impl Recorder {
    /// What was delivered once `n` deliveries arrived (or what there is
    /// after 10 s: the assertion that follows says what is missing).
    async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        for _ in 0..200 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.0.lock().unwrap().clone()
    }
}

on_both_backends!(a_message_is_pushed_through_the_deliver_part);

async fn a_message_is_pushed_through_the_deliver_part(backend: Backend) {
    let recorder = Arc::new(Recorder::default());
    let push = PushArgs {
        push_allow_private: true,
        ..PushArgs::default()
    };
    let app = TestApp::start_parts(
        backend,
        FilesArgs::default(),
        None,
        Some(recorder.clone()),
        |c| c.push = push,
    )
    .await;
    let (ana, _) = user(&app, "ana").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (cy, _) = user(&app, "cyd").await;
    let (_, room) = app
        .post("/api/rooms", &ana, json!({"name": "general"}))
        .await;
    let room_id = room["room"]["id"].as_str().unwrap().to_owned();
    for t in [&bob, &cy] {
        let (status, body) = app
            .post(&format!("/api/rooms/{room_id}/join"), t, json!({}))
            .await;
        assert!(status.is_success(), "{body}");
    }
    // bob hears everything in the room; cyd keeps the default (mentions only)
    let path = format!("/api/rooms/{room_id}/notifications");
    let (status, _) = app.patch(&path, &bob, json!({"level": "all"})).await;
    assert_eq!(status, StatusCode::OK);
    for (t, endpoint) in [
        (&bob, "http://127.0.0.1:9/bob"),
        (&cy, "http://127.0.0.1:9/cyd"),
    ] {
        let (status, body) = subscribe(&app, t, sub(endpoint)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let (status, sent) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room_id, "content": "lunch at noon"}),
        )
        .await;
    assert!(status.is_success(), "{sent}");
    let got = recorder.wait_for(1).await;
    assert_eq!(
        got.len(),
        1,
        "one push, to bob only (cyd is at mentions, ana wrote it)"
    );
    let d = &got[0];
    assert_eq!(d.subscription.endpoint, "http://127.0.0.1:9/bob");
    assert_eq!(d.subscription.user_id, bob_id);
    assert_eq!(d.topic, format!("room-{room_id}"));
    let payload: Value = serde_json::from_slice(&d.payload).unwrap();
    assert_eq!(payload["roomId"], room_id.as_str());
    assert_eq!(payload["messageId"], sent["message"]["id"]);
    assert!(
        payload["body"].as_str().unwrap().contains("lunch at noon"),
        "{payload}"
    );
}
