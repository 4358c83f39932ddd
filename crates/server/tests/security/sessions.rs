//! Sessions: logout, a password change and logout-all revoke tokens;
//! the session cookie is Secure behind a trusted HTTPS proxy only.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{err_code, raw, Backend, TestApp};

on_both_backends!(
    logout_revokes_the_token,
    password_change_revokes_the_other_sessions,
    logout_all_revokes_every_session,
    secure_cookie_behind_an_https_proxy,
);

async fn login_token(app: &TestApp, name: &str) -> String {
    let (status, body) = app.login(name, "password123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn logout_revokes_the_token(backend: Backend) {
    let app = TestApp::start(backend).await;
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
    let app = TestApp::start(backend).await;
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
        app.login("ana", "password123").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.login("ana", "brand-new-pass").await.0, StatusCode::OK);
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
    let app = TestApp::start(backend).await;
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
    let app = TestApp::start(Backend::Sqlite).await;
    app.user("ana").await;
    let c = login_cookie(&app, &[("x-forwarded-proto", "https")]).await;
    assert!(!c.contains("Secure"), "{c}");
}
