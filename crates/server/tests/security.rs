//! Issue 14 (hardening) over real HTTP, on both stores: revocable sessions,
//! cross-site rules, trusted proxies and limits, the error envelope
//! everywhere, and the small things (search caps, metrics token, CSP,
//! FRONTEND_URL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, TestApp};
use natter_server::config::ServeArgs;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Each test gets the backend and starts its own app (some change the config).
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Backend::Postgres).await }
            )*
        }
    };
}

both!(
    logout_revokes_the_token,
    password_change_revokes_the_other_sessions,
    logout_all_revokes_every_session,
    cookie_requests_from_other_sites_are_refused,
    errors_are_always_the_envelope,
    non_members_see_no_presence_or_read_state,
    search_queries_are_capped,
    names_refuse_invisible_characters,
    trusted_proxies_decide_the_client_address,
    login_name_limit_is_normalised,
    limits_cover_more_than_sends,
    metrics_token_protects_metrics,
    secure_cookie_behind_an_https_proxy,
    csp_connects_only_to_self,
);

async fn start(backend: Backend) -> TestApp {
    TestApp::start(backend).await
}

fn err_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no envelope>")
}

/// POST with explicit headers (no Bearer unless given).
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = app.client.request(method, format!("{}{}", app.base, path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some((ct, b)) = body {
        req = req.header("content-type", ct).body(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let h = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        h,
    )
}

async fn login(app: &TestApp, login: &str, password: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"login": login, "password": password})),
    )
    .await
}

async fn login_token(app: &TestApp, name: &str) -> String {
    let (status, body) = login(app, name, "password123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn logout_revokes_the_token(backend: Backend) {
    let app = start(backend).await;
    let (token, _) = app.user("ana").await;
    let other = login_token(&app, "ana").await;
    assert_eq!(app.get("/api/me", &token).await.0, StatusCode::OK);
    let (status, _) = app
        .call(Method::POST, "/api/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(err_code(&body), "unauthenticated");
    // every request, not just /me
    let (status, _) = app.get("/api/rooms", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // the other session is untouched
    assert_eq!(app.get("/api/me", &other).await.0, StatusCode::OK);
    // logging out again (or with no token) only clears the cookie
    let (status, _) = app
        .call(Method::POST, "/api/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn password_change_revokes_the_other_sessions(backend: Backend) {
    let app = start(backend).await;
    let (a, _) = app.user("ana").await;
    let b = login_token(&app, "ana").await;
    let (status, body) = app
        .post(
            "/api/auth/password",
            &a,
            json!({"current": "wrong-password", "new": "brand-new-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(err_code(&body), "invalid");
    assert_eq!(app.get("/api/me", &b).await.0, StatusCode::OK);
    let (status, body) = app
        .post(
            "/api/auth/password",
            &a,
            json!({"current": "password123", "new": "short"}),
        )
        .await;
    assert_eq!(
        (status, err_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid")
    );
    let (status, body) = app
        .post(
            "/api/auth/password",
            &a,
            json!({"current": "password123", "new": "brand-new-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        app.get("/api/me", &a).await.0,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        app.get("/api/me", &b).await.0,
        StatusCode::UNAUTHORIZED,
        "the other session is revoked"
    );
    assert_eq!(
        login(&app, "ana", "password123").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(login(&app, "ana", "brand-new-pass").await.0, StatusCode::OK);
    // no token: 401
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/password",
            None,
            Some(json!({"current": "x", "new": "yyyyyyyy"})),
        )
        .await;
    assert_eq!(
        (status, err_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

async fn logout_all_revokes_every_session(backend: Backend) {
    let app = start(backend).await;
    let (a, _) = app.user("ana").await;
    let b = login_token(&app, "ana").await;
    let (bob, _) = app.user("bob").await;
    let (status, _) = app
        .call(Method::POST, "/api/auth/logout-all", Some(&a), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/me", &a).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me", &b).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me", &bob).await.0, StatusCode::OK);
    // signing in again works
    let c = login_token(&app, "ana").await;
    assert_eq!(app.get("/api/me", &c).await.0, StatusCode::OK);
}

async fn cookie_requests_from_other_sites_are_refused(backend: Backend) {
    let app = start(backend).await;
    let (token, _) = app.user("ana").await;
    let cookie = format!("natter_session={token}");
    let own = app.base.clone();
    let room = json!({"name": "r"}).to_string();
    let post = |headers: Vec<(&'static str, String)>, body: Option<(&'static str, String)>| {
        let app = &app;
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            raw(app, Method::POST, "/api/rooms", &h, body).await
        }
    };
    let json_body = || Some(("application/json", room.clone()));
    // a sibling subdomain, another port, another site: refused
    for origin in [
        "http://evil.example",
        "http://127.0.0.1:1",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        let (status, body, _) = post(
            vec![("cookie", cookie.clone()), ("origin", origin.to_owned())],
            json_body(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}: {body}");
        assert_eq!(err_code(&body), "forbidden");
    }
    // no Origin but a browser's Sec-Fetch-Site says cross-site / same-site
    for site in ["cross-site", "same-site"] {
        let (status, body, _) = post(
            vec![
                ("cookie", cookie.clone()),
                ("sec-fetch-site", site.to_owned()),
            ],
            json_body(),
        )
        .await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::FORBIDDEN, "forbidden")
        );
    }
    // our own origin: fine
    let (status, body, _) = post(
        vec![("cookie", cookie.clone()), ("origin", own.clone())],
        json_body(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let room_id = body["room"]["id"].as_str().unwrap().to_owned();
    // no Origin and no Sec-Fetch-Site (not a browser): fine
    let (status, _, _) = post(vec![("cookie", cookie.clone())], json_body()).await;
    assert_eq!(status, StatusCode::CREATED);
    // Bearer clients are not affected by Origin
    let (status, _, _) = post(
        vec![
            ("authorization", format!("Bearer {token}")),
            ("origin", "http://evil.example".into()),
        ],
        json_body(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // bodiless state changes too (join, leave, logout)
    for path in [
        format!("/api/rooms/{room_id}/leave"),
        "/api/auth/logout".to_owned(),
    ] {
        let (status, body, _) = raw(
            &app,
            Method::POST,
            &path,
            &[("cookie", &cookie), ("origin", "http://evil.example")],
            None,
        )
        .await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{path}"
        );
    }
    assert_eq!(
        app.get("/api/me", &token).await.0,
        StatusCode::OK,
        "still signed in"
    );
    // login CSRF: a foreign page cannot sign the browser in
    let (status, _, _) = raw(
        &app,
        Method::POST,
        "/api/auth/login",
        &[("origin", "http://evil.example")],
        Some((
            "application/json",
            json!({"login": "ana", "password": "password123"}).to_string(),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // GET stays readable (CORS keeps other sites from reading it)
    let (status, _, _) = raw(
        &app,
        Method::GET,
        "/api/me",
        &[("cookie", &cookie), ("origin", "http://evil.example")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // JSON endpoints take only JSON bodies: a form or text/plain (what a
    // cross-site form can send) is `invalid`
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, body, _) = post(
            vec![("cookie", cookie.clone()), ("origin", own.clone())],
            Some((ct, room.clone())),
        )
        .await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{ct}"
        );
    }
}

/// method, path, (content type, body), status, error code ("" = not an error).
type Case = (
    Method,
    String,
    Option<(&'static str, String)>,
    StatusCode,
    &'static str,
);

async fn errors_are_always_the_envelope(backend: Backend) {
    let app = start(backend).await;
    let (token, _) = app.user("ana").await;
    let room = app.room(&token, "r", false).await;
    let auth = format!("Bearer {token}");
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/api/nope".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::POST,
            "/api/nope/deeper".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::GET,
            "/api".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::PUT,
            "/api/rooms".into(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "not_found",
        ),
        (
            Method::GET,
            format!("/api/messages?roomId={room}&limit=abc"),
            None,
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            Method::GET,
            "/api/messages".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            Method::GET,
            "/api/rooms/not-a-number".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            Method::GET,
            "/api/users?query=a&limit=x".into(),
            None,
            StatusCode::OK,
            "",
        ),
        (
            Method::POST,
            "/api/rooms".into(),
            Some(("application/json", "{broken".into())),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            Method::POST,
            "/api/rooms".into(),
            Some(("application/json", "[1,2]".into())),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            Method::POST,
            "/api/rooms".into(),
            Some(("application/json", json!({"name": 5}).to_string())),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        // rejections no handler wraps are put in the envelope too (envelope.rs)
        (
            Method::POST,
            "/api/upload".into(),
            Some(("multipart/form-data; boundary=xyz", "not multipart".into())),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            Method::POST,
            "/api/upload".into(),
            Some(("multipart/form-data", "no boundary".into())),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
    ];
    for (method, path, body, want, code) in cases {
        let (status, got, headers) = raw(
            &app,
            method.clone(),
            &path,
            &[("authorization", &auth)],
            body,
        )
        .await;
        assert_eq!(status, want, "{method} {path}: {got}");
        if !code.is_empty() {
            assert_eq!(err_code(&got), code, "{method} {path}: {got}");
            assert!(
                got["error"]["message"].is_string(),
                "{method} {path}: {got}"
            );
            assert!(
                headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json")),
                "{method} {path}: {headers:?}"
            );
        }
    }
}

async fn non_members_see_no_presence_or_read_state(backend: Backend) {
    let app = start(backend).await;
    let (ana, _) = app.user("ana").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "open", false).await;
    app.send(&ana, &room, "hello").await;
    let path = format!("/api/rooms/{room}/members");
    let (status, body) = app.get(&path, &eve).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let members = body["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    let ana_row = &members[0];
    assert_eq!(ana_row["user"]["username"], "ana");
    assert_eq!(ana_row["role"], "admin");
    assert_eq!(ana_row["online"], false);
    assert_eq!(ana_row["lastSeen"], Value::Null);
    assert_eq!(ana_row["lastReadSeq"], 0);
    // a member sees the read cursor (the sender's cursor is at their message)
    let (status, body) = app.get(&path, &ana).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["members"][0]["lastReadSeq"], 1);
    // once eve joins, she shares the room and sees it too
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/rooms/{room}/join"),
            Some(&eve),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app.get(&path, &eve).await;
    let ana_row = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == "ana")
        .unwrap()
        .clone();
    assert_eq!(ana_row["lastReadSeq"], 1);
}

async fn search_queries_are_capped(backend: Backend) {
    let app = start(backend).await;
    let (token, _) = app.user("ana").await;
    let long = "a".repeat(101);
    for path in ["/api/users?query=", "/api/rooms/public?query="] {
        let (status, body) = app.get(&format!("{path}{long}"), &token).await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{path}"
        );
        let (status, _) = app.get(&format!("{path}{}", "a".repeat(100)), &token).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

async fn names_refuse_invisible_characters(backend: Backend) {
    let app = start(backend).await;
    let (token, _) = app.user("ana").await;
    for name in [
        "evil\u{202E}txt.exe",
        "zero\u{200B}width",
        "\u{2066}isolate",
    ] {
        let (status, body) = app.post("/api/rooms", &token, json!({"name": name})).await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{name:?}"
        );
        let (status, body) = app
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"email": "x@example.com", "username": "xavier", "name": name, "password": "password123"})),
            )
            .await;
        assert_eq!(
            (status, err_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{name:?}"
        );
    }
    // NFKC: a full-width username is the name it looks like
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": "b@example.com", "username": "ＢＯＢ", "name": "Bob 👩\u{200D}💻", "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["username"], "bob");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": "c@example.com", "username": "bob", "name": "Bob", "password": "password123"})),
        )
        .await;
    assert_eq!(
        (status, err_code(&body)),
        (StatusCode::CONFLICT, "conflict")
    );
}

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
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": "alice@example.com", "username": "alice", "name": "A", "password": "password123"})),
        )
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

async fn metrics_token_protects_metrics(backend: Backend) {
    let app = TestApp::start_tweaked(backend, |c| {
        c.security.metrics_token = Some("metrics-secret".into());
    })
    .await;
    let (status, body, _) = raw(&app, Method::GET, "/metrics", &[], None).await;
    assert_eq!(
        (status, err_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let (status, _, _) = raw(
        &app,
        Method::GET,
        "/metrics",
        &[("authorization", "Bearer wrong")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth("metrics-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("natter_"));
    // without a token configured it stays open (the default)
    let open = start(Backend::Sqlite).await;
    let (status, _, _) = raw(&open, Method::GET, "/metrics", &[], None).await;
    assert_eq!(status, StatusCode::OK);
}

async fn login_cookie(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let (status, _, h) = raw(
        app,
        Method::POST,
        "/api/auth/login",
        headers,
        Some((
            "application/json",
            json!({"login": "ana", "password": "password123"}).to_string(),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    h.get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn secure_cookie_behind_an_https_proxy(backend: Backend) {
    let app =
        TestApp::start_tweaked(backend, |c| c.security.trusted_proxies = "127.0.0.1".into()).await;
    app.user("ana").await;
    let https = login_cookie(&app, &[("x-forwarded-proto", "https")]).await;
    assert!(https.contains("; Secure"), "{https}");
    assert!(https.contains("HttpOnly") && https.contains("SameSite=Lax"));
    let forwarded = login_cookie(&app, &[("forwarded", "for=192.0.2.1;proto=https")]).await;
    assert!(forwarded.contains("; Secure"), "{forwarded}");
    let plain = login_cookie(&app, &[]).await;
    assert!(!plain.contains("Secure"), "{plain}");
    drop(app);
    // an untrusted peer cannot claim HTTPS... nor would it matter much, but
    // its headers are not believed
    let app = start(Backend::Sqlite).await;
    app.user("ana").await;
    let c = login_cookie(&app, &[("x-forwarded-proto", "https")]).await;
    assert!(!c.contains("Secure"), "{c}");
}

async fn csp_connects_only_to_self(backend: Backend) {
    let app = start(backend).await;
    let res = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    assert!(!csp.contains("ws:") && !csp.contains("wss:"), "{csp}");
    let app = TestApp::start_tweaked(Backend::Sqlite, |c| {
        c.frontend_url = Some("http://localhost:5173".into());
    })
    .await;
    let res = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains("connect-src 'self' http://localhost:5173;"),
        "{csp}"
    );
}

#[tokio::test]
async fn frontend_url_wildcard_is_refused_with_a_message() {
    for bad in [
        "*",
        "http://a.example, http://b.example",
        "https://x.example/path",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(&dir);
        config.frontend_url = Some(bad.into());
        let err = natter_server::build(config).await.err().expect("refused");
        assert!(err.to_string().contains("FRONTEND_URL"), "{bad}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = base_config(&dir);
    config.security.trusted_proxies = "10.0.0.0/8, not-an-address".into();
    let err = natter_server::build(config).await.err().expect("refused");
    assert!(err.to_string().contains("NATTER_TRUSTED_PROXIES"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn data_dir_database_and_secret_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh/data");
    let mut config = base_config(&dir);
    config.store.data_dir = data.clone();
    config.store.database_url = None; // SQLite in the data dir
    config.jwt_secret = None; // generated into the data dir
    let (_router, app) = natter_server::build(config.clone()).await.unwrap();
    drop(app);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("natter.db")), 0o600);
    assert_eq!(mode(&data.join("jwt_secret")), 0o600);
    // a secret someone made readable is fixed at start
    std::fs::set_permissions(
        data.join("jwt_secret"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let secret = std::fs::read_to_string(data.join("jwt_secret")).unwrap();
    let (_router, app) = natter_server::build(config).await.unwrap();
    drop(app);
    assert_eq!(mode(&data.join("jwt_secret")), 0o600);
    assert_eq!(
        std::fs::read_to_string(data.join("jwt_secret")).unwrap(),
        secret
    );
}

fn base_config(dir: &tempfile::TempDir) -> ServeArgs {
    ServeArgs {
        store: natter_server::config::StoreArgs {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(format!("sqlite://{}", dir.path().join("t.db").display())),
        },
        port: 0,
        bind: [127, 0, 0, 1].into(),
        redis_url: None,
        jwt_secret: Some("test-secret-test-secret-test-secret".into()),
        frontend_url: None,
        token_ttl_hours: 1,
        rate_limits: "off".into(),
        secure_cookie: false,
        conn_limits: Default::default(),
        push: Default::default(),
        files: Default::default(),
        security: Default::default(),
    }
}
