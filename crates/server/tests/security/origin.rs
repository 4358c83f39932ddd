//! Cross-site rules: cookie requests from other origins are refused (login
//! CSRF too), JSON endpoints take only JSON; the CSP connects only to self.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{err_code, raw, Backend, TestApp};

on_both_backends!(
    cookie_requests_from_other_sites_are_refused,
    csp_connects_only_to_self,
);

async fn cookie_requests_from_other_sites_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
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

/// The Content-Security-Policy the web app is served with.
async fn csp_of(app: &TestApp) -> String {
    let res = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    res.headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn csp_connects_only_to_self(backend: Backend) {
    let app = TestApp::start(backend).await;
    let csp = csp_of(&app).await;
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    assert!(!csp.contains("ws:") && !csp.contains("wss:"), "{csp}");
    let app = TestApp::start_tweaked(Backend::Sqlite, |c| {
        c.frontend_url = Some("http://localhost:5173".into());
    })
    .await;
    let csp = csp_of(&app).await;
    assert!(
        csp.contains("connect-src 'self' http://localhost:5173;"),
        "{csp}"
    );
}
