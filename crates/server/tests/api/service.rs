//! The service around the API: the OpenAPI document, health and readiness,
//! and the web app's routes with their security headers.

use reqwest::{header, Method, StatusCode};

use crate::common::TestApp;

on_both_stores!(openapi_and_health);

async fn openapi_and_health(app: TestApp) {
    let (status, doc) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/me",
        "/api/rooms",
        "/api/rooms/{id}/members/{userId}",
        "/api/messages",
        "/api/dms",
        "/api/users",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.0,
        StatusCode::OK
    );
    let res = app
        .client
        .get(format!("{}/some/client/route", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(header::CONTENT_SECURITY_POLICY).is_some());
    assert_eq!(
        res.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
        "nosniff"
    );
}
