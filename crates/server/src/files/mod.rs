//! Files: uploads and who may fetch them (`service`, `uploads`, `images`, the
//! REST door `http`), and where their bytes live: a `Files` store with two backends, a local
//! directory (the default, `<data-dir>/uploads`) and any S3-compatible object
//! store (`AWS_S3_BUCKET` set). The database row of an upload says who may
//! see it; this only keeps bytes under a key. Both backends pass one test
//! suite (`tests/files_store.rs`).

pub mod http;
pub mod images;
pub mod local;
pub mod s3;
pub mod service;
pub mod uploads;

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use natter_core::{Error, Result};

use crate::config::FilesArgs;

/// A file's bytes as they arrive from storage, never all in memory.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// What `get` found: the object's full size and a stream of the asked range.
pub struct Object {
    pub size: u64,
    pub body: ByteStream,
}

/// Bytes kept under keys. Keys are Natter's own (`[A-Za-z0-9_-]` and `.`),
/// never a client's name.
#[async_trait]
pub trait Files: Send + Sync + 'static {
    /// Stores `bytes` under `key`, all or nothing: a reader never sees a
    /// partial object, and a failed put leaves nothing under `key`.
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()>;
    /// The bytes of `range` (all when `None`; `range` must lie within the
    /// object), or `None` when nothing is stored under `key`.
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<Object>>;
    /// The size of what is stored under `key`, if anything.
    async fn head(&self, key: &str) -> Result<Option<u64>>;
    /// Removes `key`; removing what is not there succeeds.
    async fn delete(&self, key: &str) -> Result<()>;
    /// For logs: "local directory /x" or "S3 bucket b at http://…".
    fn describe(&self) -> String;
}

/// The store `args` configure: S3 when a bucket is named, else the directory.
pub fn from_config(args: &FilesArgs, data_dir: &std::path::Path) -> anyhow::Result<Arc<dyn Files>> {
    match args.s3_bucket.as_deref().map(str::trim) {
        Some(bucket) if !bucket.is_empty() => Ok(Arc::new(s3::S3Files::new(&s3::S3Config {
            bucket: bucket.to_owned(),
            region: args.s3_region.clone(),
            endpoint: args.s3_endpoint.clone().filter(|e| !e.trim().is_empty()),
            access_key_id: args.s3_access_key_id.clone(),
            secret_access_key: args.s3_secret_access_key.clone(),
        })?)),
        _ => Ok(Arc::new(local::LocalFiles::new(data_dir.join("uploads")))),
    }
}

/// A key Natter made: letters, digits, `_`, `-`, `.`, not starting with a dot.
pub(crate) fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::internal(format!("bad storage key {key:?}")))
    }
}

/// A storage failure as clients see it: code `internal` with a message that
/// says the storage failed (shown, unlike other internal errors), the detail
/// in the log.
pub(crate) fn storage_error(op: &str, detail: impl std::fmt::Display) -> Error {
    tracing::error!(op, %detail, "file storage failed");
    Error::Unavailable(format!(
        "file storage failed ({op}); retry shortly, and tell the operator if it persists"
    ))
}
