//! Files in a local directory: one file per key, created 0600 in a 0700
//! directory, written to a temporary name, flushed, then renamed into place,
//! so a crash or a full disk never leaves a partial file under a key.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use natter_core::{Error, Result};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{check_key, storage_error, Files, Object};

pub struct LocalFiles {
    root: PathBuf,
}

impl LocalFiles {
    pub fn new(root: PathBuf) -> LocalFiles {
        LocalFiles { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io_error(op: &str, e: &std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::StorageFull {
        tracing::error!(op, error = %e, "file storage is full");
        return Error::Unavailable(
            "file storage is full; the upload was not stored (tell the operator)".into(),
        );
    }
    storage_error(op, e)
}

async fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = tokio::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir).await
}

async fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path).await?;
    f.write_all(bytes).await?;
    f.sync_all().await
}

#[async_trait]
impl Files for LocalFiles {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path(key)?;
        create_dir(&self.root)
            .await
            .map_err(|e| io_error("put", &e))?;
        let tmp = self
            .root
            .join(format!(".tmp-{key}-{:016x}", rand::random::<u64>()));
        if let Err(e) = write_new(&tmp, &bytes).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io_error("put", &e));
        }
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io_error("put", &e));
        }
        Ok(())
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<Object>> {
        let path = self.path(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("get", &e)),
        };
        let size = file
            .metadata()
            .await
            .map_err(|e| io_error("get", &e))?
            .len();
        let range = range.unwrap_or(0..size);
        if range.start > range.end || range.end > size {
            return Err(Error::internal(format!(
                "range {range:?} outside a file of {size} bytes"
            )));
        }
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(|e| io_error("get", &e))?;
        let body = tokio_util::io::ReaderStream::with_capacity(
            file.take(range.end - range.start),
            64 * 1024,
        )
        .boxed();
        Ok(Some(Object { size, body }))
    }

    async fn head(&self, key: &str) -> Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("head", &e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("delete", &e)),
        }
    }

    fn describe(&self) -> String {
        format!("local directory {}", self.root.display())
    }
}
