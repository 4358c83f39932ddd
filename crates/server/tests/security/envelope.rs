//! The error envelope everywhere: unknown routes, wrong methods, bad
//! queries and bodies, and rejections no handler wraps.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{err_code, raw, Backend, TestApp};

on_both_backends!(errors_are_always_the_envelope);

/// method, path, (content type, body), status, error code ("" = not an error).
type Case = (
    Method,
    String,
    Option<(&'static str, String)>,
    StatusCode,
    &'static str,
);

async fn errors_are_always_the_envelope(backend: Backend) {
    let app = TestApp::start(backend).await;
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
