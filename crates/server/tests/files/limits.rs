//! Limits and failures (SQLite is enough: no store-specific SQL): the
//! per-user upload quota and size cap, and a failing file store that leaves
//! nothing behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use natter_core::Id;
use natter_server::config::FilesArgs;
use natter_server::files::{local::LocalFiles, Files};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::files::{png, upload};
use crate::common::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_quota_holds() {
    let args = FilesArgs {
        max_upload_mb: 1,
        upload_quota_mb: 1,
        ..FilesArgs::default()
    };
    let app = TestApp::start_with(Backend::Sqlite, args, None).await;
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "Files", false).await;
    let (status, _) = upload(
        &app,
        &ana,
        &room,
        "a.bin",
        vec![1u8; 600 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "b.bin",
        vec![2u8; 600 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("quota"),
        "{body}"
    );
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "c.bin",
        vec![3u8; 1024 * 1024 + 1],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1 MB"),
        "{body}"
    );
    // Another user has their own quota.
    let (bob, _) = app.user("bob").await;
    app.post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    let (status, _) = upload(
        &app,
        &bob,
        &room,
        "d.bin",
        vec![4u8; 600 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// A file store whose puts fail from the `fail_from`-th on (1-based).
struct Failing {
    inner: LocalFiles,
    puts: AtomicUsize,
    fail_from: usize,
}

#[async_trait::async_trait]
impl Files for Failing {
    async fn put(&self, key: &str, bytes: Bytes) -> natter_core::Result<()> {
        if self.puts.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_from {
            return Err(natter_core::Error::Unavailable(
                "file storage failed (put); retry shortly".into(),
            ));
        }
        self.inner.put(key, bytes).await
    }
    async fn get(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> natter_core::Result<Option<natter_server::files::Object>> {
        self.inner.get(key, range).await
    }
    async fn head(&self, key: &str) -> natter_core::Result<Option<u64>> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> natter_core::Result<()> {
        self.inner.delete(key).await
    }
    fn describe(&self) -> String {
        "failing test store".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_is_clear_and_leaves_nothing() {
    for fail_from in [1, 2] {
        // 1: the file's put fails; 2: its thumbnail's put fails after the file was stored.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("uploads");
        let failing = Arc::new(Failing {
            inner: LocalFiles::new(root.clone()),
            puts: AtomicUsize::new(0),
            fail_from,
        });
        let app = TestApp::start_with(Backend::Sqlite, FilesArgs::default(), Some(failing)).await;
        let (ana, _) = app.user("ana").await;
        let room = app.room(&ana, "Files", false).await;
        let (status, body) = upload(&app, &ana, &room, "cat.png", png(16, 16), "image/png").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body["error"]["code"], "internal");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("file storage failed"),
            "{body}"
        );
        let ana_id = app.state.tokens.verify(&ana).unwrap().user_id;
        let long_ago = natter_store::now() - time::Duration::days(2);
        assert_eq!(
            app.state
                .store
                .uploaded_bytes_since(ana_id, long_ago)
                .await
                .unwrap(),
            0,
            "no row"
        );
        assert!(app.state.store.upload(Id(1)).await.unwrap().is_none());
        let left = std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "no bytes left behind (fail_from {fail_from})");
    }
}
