//! Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, Garage…) via
//! `object_store`. A PUT of one object is atomic on S3: an interrupted upload
//! stores nothing under the key. Objects live under `uploads/<key>`.

use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use natter_core::{Error, Result};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};

use super::{check_key, storage_error, Files, Object};

pub struct S3Config {
    pub bucket: String,
    pub region: Option<String>,
    /// A custom endpoint (`http://127.0.0.1:9000`): path-style addressing,
    /// and plain HTTP allowed (it is the operator's own endpoint).
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

pub struct S3Files {
    store: AmazonS3,
    describe: String,
}

impl S3Files {
    pub fn new(c: &S3Config) -> anyhow::Result<S3Files> {
        let region = c
            .region
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "us-east-1".into());
        // A store that is down answers within seconds, not after minutes of retries.
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        };
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&c.bucket)
            .with_region(&region)
            .with_retry(retry)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            );
        if let Some(id) = c.access_key_id.as_deref().filter(|s| !s.is_empty()) {
            b = b.with_access_key_id(id);
        }
        if let Some(secret) = c.secret_access_key.as_deref().filter(|s| !s.is_empty()) {
            b = b.with_secret_access_key(secret);
        }
        let describe = match &c.endpoint {
            Some(endpoint) => {
                b = b
                    .with_endpoint(endpoint)
                    .with_virtual_hosted_style_request(false)
                    .with_allow_http(endpoint.starts_with("http://"));
                format!("S3 bucket {} at {endpoint} (path-style)", c.bucket)
            }
            None => format!("S3 bucket {} in {region}", c.bucket),
        };
        let store = b
            .build()
            .map_err(|e| anyhow::anyhow!("S3 storage is misconfigured: {e}"))?;
        Ok(S3Files { store, describe })
    }

    fn path(key: &str) -> Result<Path> {
        check_key(key)?;
        Ok(Path::from(format!("uploads/{key}")))
    }
}

#[async_trait]
impl Files for S3Files {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.store
            .put(&Self::path(key)?, PutPayload::from(bytes))
            .await
            .map_err(|e| storage_error("put", e))?;
        Ok(())
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Option<Object>> {
        let path = Self::path(key)?;
        let empty = range.as_ref().is_some_and(|r| r.start >= r.end);
        let options = GetOptions {
            // S3 refuses an empty range; read one byte and yield none of it.
            range: range.clone().map(|r| {
                if r.start < r.end {
                    GetRange::Bounded(r)
                } else {
                    GetRange::Bounded(0..1)
                }
            }),
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(&path, options).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(storage_error("get", e)),
        };
        let size = got.meta.size;
        if let Some(r) = &range {
            if r.end > size {
                return Err(Error::internal(format!(
                    "range {r:?} outside an object of {size} bytes"
                )));
            }
        }
        let body = if empty {
            futures_util::stream::empty().boxed()
        } else {
            got.into_stream()
                .map_err(|e| {
                    tracing::error!(error = %e, "file storage failed while streaming");
                    std::io::Error::other(e)
                })
                .boxed()
        };
        Ok(Some(Object { size, body }))
    }

    async fn head(&self, key: &str) -> Result<Option<u64>> {
        match self.store.head(&Self::path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error("head", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error("delete", e)),
        }
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}
