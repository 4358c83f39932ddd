//! Files across a cluster with no shared volume: two nodes on one
//! PostgreSQL database, one Redis and one S3 bucket (moto on loopback), each
//! with its own empty data folder. A file uploaded through one node
//! downloads through the other; a delete through either removes it for all.
//!
//! Needs Redis at `NATTER_TEST_REDIS` (default `redis://127.0.0.1:6379`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use natter_server::app::AppState;
use natter_server::config::{FilesArgs, ServeArgs, StoreArgs};
use natter_store::testing::TestDb;
use reqwest::multipart::{Form, Part};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};

struct Node {
    base: String,
    state: AppState,
    dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn node(db: &TestDb, files: FilesArgs) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeArgs {
        store: StoreArgs {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone()),
        },
        port: 0,
        bind: [127, 0, 0, 1].into(),
        redis_url: Some(
            std::env::var("NATTER_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        ),
        jwt_secret: Some("cluster-test-secret-cluster-test-secret".into()),
        frontend_url: None,
        token_ttl_hours: 1,
        rate_limits: "off".into(),
        secure_cookie: false,
        conn_limits: Default::default(),
        // cluster mode: every node signs pushes with one VAPID key
        push: natter_server::config::PushArgs {
            vapid_private_key: Some("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc".into()),
            vapid_subject: Some("mailto:cluster-test@example.com".into()),
            ..Default::default()
        },
        files,
        security: Default::default(),
    };
    let (router, state) = natter_server::build(config).await.expect("build node");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Node {
        base: format!("http://{addr}"),
        state,
        dir,
        server,
    }
}

async fn post(c: &Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = c.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

async fn register(c: &Client, n: &Node, name: &str) -> String {
    let body = post(
        c,
        format!("{}/api/auth/register", n.base),
        None,
        json!({"email": format!("{name}@example.com"), "username": name, "name": name, "password": "password123"}),
    )
    .await;
    body["token"].as_str().unwrap().to_owned()
}

fn folder_is_empty(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir.join("uploads")).map_or(true, |mut d| d.next().is_none())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_node_downloads_through_another() {
    let s3 = common::s3::S3Server::start();
    let bucket = s3.bucket().await;
    let db = TestDb::postgres().await;
    let a = node(&db, bucket.clone()).await;
    let b = node(&db, bucket).await;
    let c = Client::new();

    let ana = register(&c, &a, "ana").await;
    let bob = register(&c, &b, "bob").await;
    let room = post(
        &c,
        format!("{}/api/rooms", a.base),
        Some(&ana),
        json!({"name": "shared"}),
    )
    .await;
    let room = room["room"]["id"].as_str().unwrap().to_owned();
    post(
        &c,
        format!("{}/api/rooms/{room}/join", b.base),
        Some(&bob),
        json!({}),
    )
    .await;

    // Upload and send through node A.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let form = Form::new()
        .text("roomId", room.clone())
        .part("file", Part::bytes(data.clone()).file_name("report.bin"));
    let res = c
        .post(format!("{}/api/upload", a.base))
        .bearer_auth(&ana)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let up: Value = res.json().await.unwrap();
    let url = up["file"]["url"].as_str().unwrap().to_owned();
    let msg = post(
        &c,
        format!("{}/api/messages", a.base),
        Some(&ana),
        json!({"roomId": room, "content": "the report", "type": "file", "fileUrl": url}),
    )
    .await;

    // Download through node B: whole, and a range.
    let res = c
        .get(format!("{}{url}", b.base))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap(), data);
    let res = c
        .get(format!("{}{url}", b.base))
        .bearer_auth(&bob)
        .header(header::RANGE, "bytes=100000-100099")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap(), data[100_000..100_100]);
    // No node keeps the bytes in its folder: they are in S3.
    assert!(folder_is_empty(a.dir.path()) && folder_is_empty(b.dir.path()));
    let key = a
        .state
        .store
        .upload(natter_core::files::file_id(&url).unwrap())
        .await
        .unwrap()
        .unwrap()
        .storage_key;
    assert_eq!(
        b.state.files.head(&key).await.unwrap(),
        Some(data.len() as u64)
    );

    // Deleted through node B: gone on both nodes, and from the bucket.
    let res = c
        .delete(format!(
            "{}/api/messages/{}",
            b.base,
            msg["message"]["id"].as_str().unwrap()
        ))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for (n, token) in [(&a, &ana), (&b, &bob)] {
        let res = c
            .get(format!("{}{url}", n.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(a.state.files.head(&key).await.unwrap(), None);
}
