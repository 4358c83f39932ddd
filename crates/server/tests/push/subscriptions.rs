//! Subscriptions: idempotent, moved to the newest user, deleted only by
//! their owner, and at most twenty per user.

use natter_server::config::PushArgs;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::Backend;
use crate::{start, stored, sub, subscribe, user};

on_both_backends!(
    subscriptions_are_idempotent_and_move_to_the_newest_user,
    at_most_twenty_subscriptions_per_user,
);

async fn subscriptions_are_idempotent_and_move_to_the_newest_user(backend: Backend) {
    let app = start(backend, PushArgs::default()).await;
    let (ana, ana_id) = user(&app, "ana").await;
    let (bob, bob_id) = user(&app, "bob").await;
    // an IP literal: a public address that needs no DNS on the test machine
    let endpoint = "https://8.8.8.8/push/v2/abc";
    let body = sub(endpoint);
    let (status, first) = subscribe(&app, &ana, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["subscription"]["endpoint"], endpoint);
    let (status, again) = subscribe(&app, &ana, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["subscription"]["id"], first["subscription"]["id"]);
    assert_eq!(stored(&app, ana_id).await.len(), 1);

    let (status, moved) = subscribe(&app, &bob, sub(endpoint)).await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");
    assert_eq!(moved["subscription"]["id"], first["subscription"]["id"]);
    assert!(stored(&app, ana_id).await.is_empty(), "moved away from ana");
    assert_eq!(stored(&app, bob_id).await.len(), 1);

    // ana cannot delete bob's; bob can delete his, twice (204 both times)
    let del = |t: String| {
        let app = &app;
        async move {
            app.call(
                Method::DELETE,
                "/api/push/subscriptions",
                Some(&t),
                Some(json!({ "endpoint": endpoint })),
            )
            .await
            .0
        }
    };
    assert_eq!(del(ana.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(stored(&app, bob_id).await.len(), 1);
    assert_eq!(del(bob.clone()).await, StatusCode::NO_CONTENT);
    assert!(stored(&app, bob_id).await.is_empty());
    assert_eq!(del(bob).await, StatusCode::NO_CONTENT);
    // signed out: 401
    let (status, _) = app
        .call(
            Method::POST,
            "/api/push/subscriptions",
            None,
            Some(sub(endpoint)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn at_most_twenty_subscriptions_per_user(backend: Backend) {
    let app = start(backend, PushArgs::default()).await;
    let (ana, ana_id) = user(&app, "ana").await;
    for i in 0..20 {
        let (status, res) = subscribe(&app, &ana, sub(&format!("https://8.8.8.8/push/{i}"))).await;
        assert_eq!(status, StatusCode::CREATED, "{i}: {res}");
    }
    let (status, res) = subscribe(&app, &ana, sub("https://8.8.8.8/push/20")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    assert_eq!(res["error"]["code"], "invalid");
    assert!(res["error"]["message"].as_str().unwrap().contains("20"));
    assert_eq!(stored(&app, ana_id).await.len(), 20);
    // re-registering one of the twenty is still fine
    let (status, _) = subscribe(&app, &ana, sub("https://8.8.8.8/push/3")).await;
    assert_eq!(status, StatusCode::CREATED);
}
