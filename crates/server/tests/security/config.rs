//! What the operator configures: the metrics token, FRONTEND_URL and
//! trusted proxies checked at start, a private data folder and secret.

use natter_server::config::ServeArgs;
use reqwest::{Method, StatusCode};

use crate::common::{err_code, raw, serve_args, Backend, TestApp};

on_both_backends!(metrics_token_protects_metrics);

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
    let open = TestApp::start(Backend::Sqlite).await;
    let (status, _, _) = raw(&open, Method::GET, "/metrics", &[], None).await;
    assert_eq!(status, StatusCode::OK);
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
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    serve_args(dir.path(), Some(db))
}
