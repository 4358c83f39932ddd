//! Web Push REST API (issue 11) on both stores: the VAPID key, subscriptions
//! (idempotent, moving, capped, validated — every bad one `invalid` with
//! nothing stored), notification levels, and the start-up rules of the key.
//! Delivery itself (encryption, VAPID signature, levels, focus, pruning) is
//! checked end to end by tests/node/push/ with an independent receiver.
//! One module a theme; the node is `tests/common/`'s, with these push
//! settings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod cluster;
mod deliver;
mod levels;
mod subscriptions;
mod validation;
mod vapid;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::{Backend, TestApp};
use natter_core::Id;
use natter_server::config::PushArgs;
use reqwest::StatusCode;
use serde_json::{json, Value};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

/// A node with these push settings.
async fn start(backend: Backend, push: PushArgs) -> TestApp {
    TestApp::start_tweaked(backend, |c| c.push = push).await
}

/// Registers `name`; returns (token, user id).
async fn user(app: &TestApp, name: &str) -> (String, Id) {
    let (token, id) = app.user(name).await;
    (token, id.parse().unwrap())
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/push/subscriptions", token, body).await
}

async fn stored(app: &TestApp, user: Id) -> Vec<natter_store::PushSubscription> {
    app.state
        .store
        .push_subscriptions_of(&[user])
        .await
        .unwrap()
}

/// A browser's keys: a fresh P-256 public key and a 16-byte auth secret.
fn keys() -> (String, String) {
    let secret = web_push_native::p256::SecretKey::random(&mut rand::rngs::OsRng);
    let public = secret.public_key().to_encoded_point(false);
    (
        Base64UrlUnpadded::encode_string(public.as_bytes()),
        Base64UrlUnpadded::encode_string(&[7u8; 16]),
    )
}

fn sub(endpoint: &str) -> Value {
    let (p256dh, auth) = keys();
    json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
}
