//! Rate limits: trusted proxies decide the client address (IPv6 per /64),
//! login names are limited as normalised, and rooms and edits are limited.

use natter_server::config::ServeArgs;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{err_code, raw, Backend, TestApp};

on_both_backends!(
    trusted_proxies_decide_the_client_address,
    login_name_limit_is_normalised,
    limits_cover_more_than_sends,
);

fn limited(trusted: &'static str) -> impl FnOnce(&mut ServeArgs) {
    move |c: &mut ServeArgs| {
        c.rate_limits = "on".into();
        c.security.trusted_proxies = trusted.into();
    }
}

async fn register_from(app: &TestApp, name: &str, xff: &str) -> StatusCode {
    let body = json!({"email": format!("{name}@example.com"), "username": name, "name": name, "password": "password123"});
    raw(
        app,
        Method::POST,
        "/api/auth/register",
        &[("x-forwarded-for", xff)],
        Some(("application/json", body.to_string())),
    )
    .await
    .0
}

async fn trusted_proxies_decide_the_client_address(backend: Backend) {
    // behind a trusted proxy (the test client is 127.0.0.1): per client
    let app = TestApp::start_tweaked(backend, limited("127.0.0.1/32, ::1")).await;
    for i in 0..5 {
        // the leftmost entry is the client's to write, so it is ignored
        let xff = format!("{i}.{i}.{i}.{i}, 203.0.113.7");
        assert_eq!(
            register_from(&app, &format!("user{i}"), &xff).await,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        register_from(&app, "user5", "9.9.9.9, 203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the same client behind the proxy is limited"
    );
    assert_eq!(
        register_from(&app, "user6", "198.51.100.1").await,
        StatusCode::CREATED,
        "another client is not"
    );
    // IPv6: one /64 is one client
    for i in 0..5 {
        let xff = format!("2001:db8:1:2::{i}");
        assert_eq!(
            register_from(&app, &format!("six{i}"), &xff).await,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        register_from(&app, "six5", "2001:db8:1:2:ffff::1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        register_from(&app, "six6", "2001:db8:1:3::1").await,
        StatusCode::CREATED
    );
    drop(app);
    // no trusted proxies: the headers are ignored, the peer is the client
    let app = TestApp::start_tweaked(Backend::Sqlite, limited("")).await;
    for i in 0..5 {
        let xff = format!("10.0.0.{i}");
        assert_eq!(
            register_from(&app, &format!("user{i}"), &xff).await,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        register_from(&app, "user5", "10.0.0.99").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn login_name_limit_is_normalised(backend: Backend) {
    let app = TestApp::start_tweaked(backend, limited("127.0.0.1")).await;
    let (status, _) = app
        .register(json!({"email": "alice@example.com", "username": "alice", "name": "A", "password": "password123"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let variants = ["alice", " alice", "ALICE", "alice ", "ａｌｉｃｅ"];
    for i in 0..10 {
        let body = json!({"login": variants[i % variants.len()], "password": "wrong-password"});
        let xff = format!("192.0.2.{i}");
        let (status, got, _) = raw(
            &app,
            Method::POST,
            "/api/auth/login",
            &[("x-forwarded-for", &xff)],
            Some(("application/json", body.to_string())),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}: {got}");
    }
    let body = json!({"login": "\tAlice", "password": "password123"});
    let (status, got, headers) = raw(
        &app,
        Method::POST,
        "/api/auth/login",
        &[("x-forwarded-for", "192.0.2.200")],
        Some(("application/json", body.to_string())),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{got}");
    assert_eq!(err_code(&got), "rate_limited");
    assert!(headers.contains_key("retry-after"));
}

/// `n` requests at once (so the buckets cannot refill meanwhile, however slow
/// the machine); the statuses in no particular order.
async fn burst(
    app: &TestApp,
    n: usize,
    method: Method,
    path: &str,
    token: &str,
    body: impl Fn(usize) -> Value,
) -> Vec<StatusCode> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let req = app
            .client
            .request(method.clone(), format!("{}{}", app.base, path))
            .bearer_auth(token)
            .json(&body(i));
        set.spawn(async move { req.send().await.map(|r| r.status()) });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task").expect("request"));
    }
    out
}

async fn limits_cover_more_than_sends(backend: Backend) {
    let app = TestApp::start_tweaked(backend, limited("")).await;
    let (ana, _) = app.user("ana").await;
    let count = |codes: &[StatusCode], s: StatusCode| codes.iter().filter(|c| **c == s).count();
    // rooms: 10 a minute
    let codes = burst(
        &app,
        14,
        Method::POST,
        "/api/rooms",
        &ana,
        |i| json!({"name": format!("r{i}")}),
    )
    .await;
    assert!(count(&codes, StatusCode::CREATED) >= 10, "{codes:?}");
    assert!(
        count(&codes, StatusCode::TOO_MANY_REQUESTS) >= 1,
        "{codes:?}"
    );
    assert_eq!(
        count(&codes, StatusCode::CREATED) + count(&codes, StatusCode::TOO_MANY_REQUESTS),
        14
    );
    // edits: bursts of 10, 2 a second
    let (bob, _) = app.user("bob").await;
    let room = app.room(&bob, "b", false).await;
    let m = app.send(&bob, &room, "v0").await;
    let path = format!("/api/messages/{}", m["id"].as_str().unwrap());
    let codes = burst(
        &app,
        30,
        Method::PATCH,
        &path,
        &bob,
        |i| json!({"content": format!("v{}", i + 1)}),
    )
    .await;
    assert!(count(&codes, StatusCode::OK) >= 10, "{codes:?}");
    assert!(
        count(&codes, StatusCode::TOO_MANY_REQUESTS) >= 1,
        "{codes:?}"
    );
    // another user is not affected
    let (cleo, _) = app.user("cleo").await;
    assert_eq!(
        app.post("/api/rooms", &cleo, json!({"name": "c"})).await.0,
        StatusCode::CREATED
    );
}
