//! Accounts: registering (unique ignoring case, the session cookie), login
//! by username or email, the cookie alone authenticating, logout, and the
//! auth errors.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;

on_both_stores!(accounts, auth_errors);

async fn accounts(app: TestApp) {
    let res = app
        .client
        .post(format!("{}/api/auth/register", app.base))
        .json(&json!({"email": "Ana@Example.com", "username": "Ana", "name": "Ana B", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("natter_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["username"], "ana");
    assert!(body["user"].get("passwordHash").is_none());
    let token = body["token"].as_str().unwrap().to_owned();

    // Taken, ignoring case.
    for (email, username, field) in [
        ("ana@example.com", "other", "email"),
        ("x@example.com", "ANA", "username"),
    ] {
        let (status, body) = app
            .register(json!({"email": email, "username": username, "name": "X", "password": "password123"}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "conflict");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }

    // Login by username or email, any case.
    for login in ["ana", "ANA@example.com"] {
        let (status, body) = app.login(login, "password123").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["username"], "ana");
    }
    let (status, me) = app.get("/api/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], "ana@example.com");

    // The cookie alone authenticates; logout clears it.
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = app
        .client
        .get(format!("{}/api/me", app.base))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .post(format!("{}/api/auth/logout", app.base))
        .send()
        .await
        .unwrap();
    let cleared = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

async fn auth_errors(app: TestApp) {
    app.user("bob").await;
    let (status, body) = app.login("bob", "wrong-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = app.login("nobody", "password123").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.call(Method::GET, "/api/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": {"code": "unauthenticated", "message": "Authentication required"}})
    );
    let (status, body) = app.get("/api/rooms", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "Invalid token");
    for bad in [
        json!({"email": "nope", "username": "carl", "name": "C", "password": "password123"}),
        json!({"email": "c@example.com", "username": "c", "name": "C", "password": "password123"}),
        json!({"email": "c@example.com", "username": "carl", "name": "C", "password": "short"}),
        json!({"email": "c@example.com", "username": "carl", "name": "", "password": "password123"}),
        json!({"email": "c@example.com", "username": 5, "name": "C", "password": "password123"}),
    ] {
        let (status, body) = app.register(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "invalid");
    }
}
