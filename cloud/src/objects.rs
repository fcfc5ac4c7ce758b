//! Image bytes through the `object_store` crate: a local directory by default, or an S3-compatible bucket
//! (`[object_store]` in the configuration; AWS S3, MinIO, Ceph RGW). Chunks are staged under `staging/{sha256}/{index}`; a whole blob, once its SHA-256
//! checks, is put at `blobs/{sha256[..2]}/{sha256}` and the staged chunks are deleted.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

/// An object-store error with the key it concerned.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object store {action} {key}: {source}")]
    Store {
        action: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
    #[error("object store {url}: {reason}")]
    Config { url: String, reason: String },
    #[error("opening the blob directory {dir}: {source}")]
    Open {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where blobs live.
#[derive(Debug, Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    /// For logs: the folder or the bucket URL.
    describe: String,
}

fn err<'a>(
    action: &'static str,
    key: &'a ObjPath,
) -> impl FnOnce(object_store::Error) -> ObjectError + 'a {
    move |source| ObjectError::Store {
        action,
        key: key.to_string(),
        source,
    }
}

impl Objects {
    /// A local directory (created if missing).
    pub fn local(dir: &Path) -> Result<Objects, ObjectError> {
        std::fs::create_dir_all(dir).map_err(|source| ObjectError::Open {
            dir: dir.display().to_string(),
            source,
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| ObjectError::Store {
            action: "opening",
            key: dir.display().to_string(),
            source: e,
        })?;
        Ok(Objects {
            store: Arc::new(fs),
            describe: dir.display().to_string(),
        })
    }

    /// What the configuration names: the S3 bucket of `[object_store]`, else the folder `blob_dir`.
    pub async fn open(cfg: &crate::config::Config) -> Result<Objects, ObjectError> {
        match &cfg.object_store {
            Some(s3) => Objects::s3(s3).await,
            None => Objects::local(&cfg.blob_dir),
        }
    }

    /// An S3-compatible bucket; one listing request up front, so a wrong endpoint, bucket or credential
    /// stops the service at start with the store's answer rather than at the first image.
    pub async fn s3(cfg: &crate::config::ObjectStoreConfig) -> Result<Objects, ObjectError> {
        let bad = |reason: String| ObjectError::Config {
            url: cfg.url.clone(),
            reason,
        };
        let rest = cfg
            .url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("the URL must start with s3://".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name".into()));
        }
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(&cfg.region)
            .with_allow_http(cfg.allow_http);
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        let s3 = builder.build().map_err(|e| bad(e.to_string()))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        store
            .list_with_delimiter(Some(&ObjPath::from("blobs")))
            .await
            .map_err(|e| bad(e.to_string()))?;
        Ok(Objects {
            store,
            describe: cfg.url.clone(),
        })
    }

    /// Any `object_store` implementation (S3, GCS, in-memory).
    pub fn new(store: Arc<dyn ObjectStore>) -> Objects {
        Objects {
            store,
            describe: "object store".into(),
        }
    }

    /// The folder or bucket, for logs.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub fn blob_key(sha256_hex: &str) -> ObjPath {
        let prefix = sha256_hex.get(..2).unwrap_or("xx");
        ObjPath::from(format!("blobs/{prefix}/{sha256_hex}"))
    }

    fn chunk_key(sha256_hex: &str, index: u32) -> ObjPath {
        ObjPath::from(format!("staging/{sha256_hex}/{index:08}"))
    }

    pub async fn put_chunk(
        &self,
        sha256_hex: &str,
        index: u32,
        data: Bytes,
    ) -> Result<(), ObjectError> {
        let key = Self::chunk_key(sha256_hex, index);
        self.store
            .put(&key, PutPayload::from_bytes(data))
            .await
            .map_err(err("put", &key))?;
        Ok(())
    }

    /// Reads the staged chunks `0..count` in order and concatenates them.
    pub async fn assemble(&self, sha256_hex: &str, count: u32) -> Result<Vec<u8>, ObjectError> {
        let mut out = Vec::new();
        for i in 0..count {
            let key = Self::chunk_key(sha256_hex, i);
            let got = self.store.get(&key).await.map_err(err("get", &key))?;
            let bytes = got.bytes().await.map_err(err("read", &key))?;
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }

    pub async fn put_blob(&self, sha256_hex: &str, data: Vec<u8>) -> Result<(), ObjectError> {
        let key = Self::blob_key(sha256_hex);
        self.store
            .put(&key, PutPayload::from(data))
            .await
            .map_err(err("put", &key))?;
        Ok(())
    }

    /// The bytes of a stored blob.
    pub async fn get_blob(&self, sha256_hex: &str) -> Result<Bytes, ObjectError> {
        let key = Self::blob_key(sha256_hex);
        let got = self.store.get(&key).await.map_err(err("get", &key))?;
        got.bytes().await.map_err(err("read", &key))
    }

    /// Deletes staged chunks `0..count` (missing ones are fine).
    pub async fn drop_chunks(&self, sha256_hex: &str, count: u32) -> Result<(), ObjectError> {
        for i in 0..count {
            let key = Self::chunk_key(sha256_hex, i);
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(err("delete", &key)(e)),
            }
        }
        Ok(())
    }
}

/// SHA-256 of `data`, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    jachai_protocol::hex::encode(&Sha256::digest(data))
}
