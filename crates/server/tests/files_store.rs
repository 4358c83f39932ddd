//! One suite for both file stores: the local directory and S3 (a real
//! S3-compatible server, moto, on loopback; a bucket per test). Every test
//! below runs on both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use natter_core::Error;
use natter_server::files::{local::LocalFiles, Files};

/// Runs each listed test on a local directory and on an S3 bucket.
macro_rules! on_both_file_stores {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let files: std::sync::Arc<dyn natter_server::files::Files> = std::sync::Arc::new(natter_server::files::local::LocalFiles::new(dir.path().join("uploads")));
                    super::$name(files).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = super::common::s3::S3Server::start();
                    let args = server.bucket().await;
                    let files = natter_server::files::from_config(&args, std::path::Path::new("/nonexistent")).unwrap();
                    assert!(files.describe().contains("S3 bucket"), "{}", files.describe());
                    super::$name(files).await
                }
            )*
        }
    };
}

on_both_file_stores!(
    put_get_head_delete,
    ranges,
    missing_keys,
    overwrite_replaces_whole,
    large_files_stream_in_pieces,
    bad_keys_are_refused,
);

async fn read(files: &dyn Files, key: &str, range: Option<std::ops::Range<u64>>) -> (u64, Vec<u8>) {
    let obj = files.get(key, range).await.unwrap().expect("object");
    let chunks: Vec<Bytes> = obj.body.try_collect().await.unwrap();
    (obj.size, chunks.concat())
}

async fn put_get_head_delete(files: Arc<dyn Files>) {
    let data = Bytes::from_static(b"hello, natter");
    files.put("k1", data.clone()).await.unwrap();
    assert_eq!(read(&*files, "k1", None).await, (13, data.to_vec()));
    assert_eq!(files.head("k1").await.unwrap(), Some(13));
    files
        .put("k1.thumb", Bytes::from_static(b"t"))
        .await
        .unwrap();
    files.delete("k1").await.unwrap();
    assert!(files.get("k1", None).await.unwrap().is_none());
    assert_eq!(files.head("k1").await.unwrap(), None);
    assert_eq!(
        files.head("k1.thumb").await.unwrap(),
        Some(1),
        "other keys stay"
    );
    files.delete("k1").await.unwrap();
}

async fn ranges(files: Arc<dyn Files>) {
    let data: Vec<u8> = (0..=255u8).collect();
    files.put("r", Bytes::from(data.clone())).await.unwrap();
    assert_eq!(
        read(&*files, "r", Some(10..20)).await,
        (256, data[10..20].to_vec())
    );
    assert_eq!(
        read(&*files, "r", Some(250..256)).await,
        (256, data[250..].to_vec())
    );
    assert_eq!(read(&*files, "r", Some(0..1)).await, (256, vec![0]));
    assert_eq!(read(&*files, "r", Some(0..256)).await, (256, data.clone()));
    assert_eq!(read(&*files, "r", Some(7..7)).await, (256, Vec::new()));
}

async fn missing_keys(files: Arc<dyn Files>) {
    assert!(files.get("nothing", None).await.unwrap().is_none());
    assert!(files.get("nothing", Some(0..4)).await.unwrap().is_none());
    assert_eq!(files.head("nothing").await.unwrap(), None);
    files.delete("nothing").await.unwrap();
}

async fn overwrite_replaces_whole(files: Arc<dyn Files>) {
    files.put("o", Bytes::from(vec![1u8; 1000])).await.unwrap();
    files.put("o", Bytes::from_static(b"short")).await.unwrap();
    assert_eq!(read(&*files, "o", None).await, (5, b"short".to_vec()));
}

async fn large_files_stream_in_pieces(files: Arc<dyn Files>) {
    let data: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    files.put("big", Bytes::from(data.clone())).await.unwrap();
    let obj = files.get("big", None).await.unwrap().unwrap();
    assert_eq!(obj.size, data.len() as u64);
    let chunks: Vec<Bytes> = obj.body.try_collect().await.unwrap();
    assert!(chunks.len() > 1, "streamed, not one buffer");
    assert!(chunks.iter().all(|c| c.len() <= 4 * 1024 * 1024));
    assert_eq!(chunks.concat(), data);
    let mid = 3 * 1024 * 1024;
    let (_, part) = read(&*files, "big", Some(mid..mid + 100)).await;
    assert_eq!(part, data[mid as usize..mid as usize + 100]);
}

async fn bad_keys_are_refused(files: Arc<dyn Files>) {
    for key in ["../escape", "", ".hidden", "a/b", "a\\b"] {
        assert!(
            files.put(key, Bytes::from_static(b"x")).await.is_err(),
            "{key:?}"
        );
        assert!(files.get(key, None).await.is_err(), "{key:?}");
    }
}

// ---- the local directory only ----

#[cfg(unix)]
#[tokio::test]
async fn local_files_are_private_and_leave_no_temporaries() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("uploads");
    let files = LocalFiles::new(root.clone());
    files
        .put("p1", Bytes::from_static(b"secret"))
        .await
        .unwrap();
    files
        .put("p2", Bytes::from_static(b"secret"))
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(&root.join("p1")), 0o600);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["p1", "p2"]);
}

#[tokio::test]
async fn local_store_failures_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // The store's folder is a file: nothing can be written.
    let root = dir.path().join("uploads");
    std::fs::write(&root, b"in the way").unwrap();
    let files = LocalFiles::new(root);
    let err = files.put("k", Bytes::from_static(b"x")).await.unwrap_err();
    let Error::Unavailable(msg) = &err else {
        panic!("{err:?}")
    };
    assert!(msg.contains("file storage failed"), "{msg}");
    assert_eq!(err.body().code.as_str(), "internal");
}

// ---- S3 only ----

#[tokio::test]
async fn s3_down_is_a_clear_error_within_seconds() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let args = natter_server::config::FilesArgs {
        s3_bucket: Some("nowhere".into()),
        s3_endpoint: Some(format!("http://127.0.0.1:{port}")),
        s3_access_key_id: Some("test".into()),
        s3_secret_access_key: Some("test".into()),
        ..Default::default()
    };
    let files = natter_server::files::from_config(&args, std::path::Path::new("/x")).unwrap();
    let put = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        files.put("k", Bytes::from_static(b"x")),
    )
    .await
    .expect("answers, not hangs");
    let Err(Error::Unavailable(msg)) = put else {
        panic!("{put:?}")
    };
    assert!(msg.contains("file storage failed"), "{msg}");
    assert!(files.get("k", None).await.is_err());
}

#[tokio::test]
async fn s3_bucket_that_does_not_exist_fails_clearly() {
    let server = common::s3::S3Server::start();
    let mut args = server.bucket().await;
    args.s3_bucket = Some("natter-no-such-bucket".into());
    let files = natter_server::files::from_config(&args, std::path::Path::new("/x")).unwrap();
    let err = files.put("k", Bytes::from_static(b"x")).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
}
