//! Archive before delete: a store's pruned partitions copied to an object store (an
//! S3-compatible bucket, or a local folder through `object_store`'s `LocalFileSystem`)
//! with the checkpoint log, read back and compared, before anything is removed
//! locally (see [`StoreIntegrity::prune_archiving`](crate::StoreIntegrity::prune_archiving)).
//!
//! Objects keep the store's relative paths under the archive's prefix:
//! `<prefix>/<topic>/<routing key>/YYYY/mm/dd/HH/<first record>.jsonl`, and
//! `<prefix>/checkpoints.jsonl` and `<prefix>/store-id` beside them, so that a copy of
//! the archive is laid out as a store and `auditrail verify --archive` reads it with
//! the one walker and verifier of the store format.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_store::{ArchiveConfig, ArchiveLocation};
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes read from a local file per step of an upload.
const CHUNK: usize = 1 << 20;

/// Why archiving (or reading an archive) failed. Each names the object and the cause.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive's config is unusable.
    #[error("archive {url}: {reason}")]
    Config {
        /// The archive URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The object store client could not be built.
    #[error("archive {url}: cannot open the object store")]
    Open {
        /// The archive URL.
        url: String,
        /// The cause (boxed: the object store's error is large).
        #[source]
        source: Box<object_store::Error>,
    },
    /// Reading a local file failed.
    #[error("archive: cannot read {path}")]
    Local {
        /// The local file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An object store request failed.
    #[error("archive {url}: {what} {object} failed")]
    Request {
        /// The archive URL.
        url: String,
        /// What was done (`upload of`, `read-back of`, `download of`, `listing of`).
        what: &'static str,
        /// The object's path in the object store.
        object: String,
        /// The cause (boxed: the object store's error is large).
        #[source]
        source: Box<object_store::Error>,
    },
    /// The object read back is not what was uploaded.
    #[error("archive {url}: read-back of {object}: {found}, uploaded {bytes} bytes with SHA-256 {sha256}")]
    Mismatch {
        /// The archive URL.
        url: String,
        /// The object's path in the object store.
        object: String,
        /// What the read-back found.
        found: String,
        /// Bytes uploaded.
        bytes: u64,
        /// SHA-256 of what was uploaded (hex).
        sha256: String,
    },
}

/// One object copied to the archive, as a deletion line records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchivedObject {
    /// The file's path relative to the store root (= the object's path under the
    /// archive's prefix), `/`-separated.
    pub path: String,
    /// SHA-256 of its bytes (64 hex).
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// What a deletion line records about the copy of what it deleted: where, and each
/// segment file with its digest (signed with the rest of the line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archived {
    /// The archive URL.
    pub url: String,
    /// The deleted partitions' segment files, as uploaded and read back.
    pub objects: Vec<ArchivedObject>,
}

/// An open archive: an object store and the prefix under which a store's files go.
#[derive(Debug, Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    url: String,
}

impl Archive {
    /// Opens the archive `config` names. No request is made yet.
    pub fn open(config: &ArchiveConfig) -> Result<Archive, ArchiveError> {
        let url = config.url.clone();
        let location = config.location().map_err(|reason| ArchiveError::Config {
            url: url.clone(),
            reason,
        })?;
        let (store, prefix): (Arc<dyn ObjectStore>, String) = match location {
            ArchiveLocation::File { root } => {
                std::fs::create_dir_all(&root).map_err(|e| ArchiveError::Local {
                    path: root.clone(),
                    source: e,
                })?;
                let fs = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| ArchiveError::Open {
                        url: url.clone(),
                        source: Box::new(e),
                    })?
                    // A crash mid-upload never leaves a partial object behind a name.
                    .with_automatic_cleanup(true);
                (Arc::new(fs), String::new())
            }
            ArchiveLocation::S3 { bucket, prefix } => {
                // The environment first (AWS_ACCESS_KEY_ID, AWS_REGION...), the config's
                // keys over it.
                let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(e) = &config.endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(r) = &config.region {
                    b = b.with_region(r);
                }
                if let Some(k) = &config.access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = &config.secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                if config.allow_http {
                    b = b.with_allow_http(true);
                }
                let s3 = b.build().map_err(|e| ArchiveError::Open {
                    url: url.clone(),
                    source: Box::new(e),
                })?;
                (Arc::new(s3), prefix)
            }
        };
        Ok(Archive { store, prefix, url })
    }

    /// The archive URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn object(&self, rel: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn request(
        &self,
        what: &'static str,
        object: &ObjectPath,
        source: object_store::Error,
    ) -> ArchiveError {
        ArchiveError::Request {
            url: self.url.clone(),
            what,
            object: object.to_string(),
            source: Box::new(source),
        }
    }

    /// Uploads the local file `local` as `rel`, then reads it back (its size from a
    /// HEAD request, its bytes from a GET, hashed) and compares with what was uploaded.
    /// Returns the object as uploaded: its size and SHA-256 are those of the bytes
    /// read from `local` during the upload.
    pub async fn upload(&self, local: &Path, rel: &str) -> Result<ArchivedObject, ArchiveError> {
        let object = self.object(rel);
        let local_err = |e| ArchiveError::Local {
            path: local.to_path_buf(),
            source: e,
        };
        let mut file = tokio::fs::File::open(local).await.map_err(local_err)?;
        let mut writer = BufWriter::new(self.store.clone(), object.clone());
        let mut hash = Sha256::new();
        let mut bytes = 0u64;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await.map_err(local_err)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            bytes += n as u64;
            if let Err(e) = writer.put(bytes::Bytes::copy_from_slice(&buf[..n])).await {
                let _ = writer.abort().await;
                return Err(self.request("upload of", &object, e));
            }
        }
        if let Err(e) = writer.shutdown().await {
            // BufWriter reports the object store's error inside an io error.
            let cause = match e
                .into_inner()
                .map(|inner| inner.downcast::<object_store::Error>())
            {
                Some(Ok(store_error)) => *store_error,
                Some(Err(other)) => object_store::Error::Generic {
                    store: "archive",
                    source: other,
                },
                None => object_store::Error::Generic {
                    store: "archive",
                    source: "the upload did not complete".into(),
                },
            };
            return Err(self.request("upload of", &object, cause));
        }
        let uploaded = ArchivedObject {
            path: rel.to_string(),
            sha256: hex::encode(hash.finalize()),
            bytes,
        };
        self.read_back(&uploaded).await?;
        Ok(uploaded)
    }

    /// Checks that the archive holds `expected`: its size (HEAD) and its bytes' SHA-256
    /// (GET).
    pub async fn read_back(&self, expected: &ArchivedObject) -> Result<(), ArchiveError> {
        let object = self.object(&expected.path);
        let mismatch = |found: String| ArchiveError::Mismatch {
            url: self.url.clone(),
            object: object.to_string(),
            found,
            bytes: expected.bytes,
            sha256: expected.sha256.clone(),
        };
        let meta = self
            .store
            .head(&object)
            .await
            .map_err(|e| self.request("read-back of", &object, e))?;
        if meta.size != expected.bytes {
            return Err(mismatch(format!(
                "the object store has {} bytes",
                meta.size
            )));
        }
        let (sha, n) = self.hash_object(&object).await?;
        if n != expected.bytes || sha != expected.sha256 {
            return Err(mismatch(format!("read {n} bytes with SHA-256 {sha}")));
        }
        Ok(())
    }

    async fn hash_object(&self, object: &ObjectPath) -> Result<(String, u64), ArchiveError> {
        let got = self
            .store
            .get(object)
            .await
            .map_err(|e| self.request("read-back of", object, e))?;
        let mut stream = got.into_stream();
        let mut hash = Sha256::new();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.request("read-back of", object, e))?;
            hash.update(&chunk);
            n += chunk.len() as u64;
        }
        Ok((hex::encode(hash.finalize()), n))
    }

    /// Copies every object under the archive's prefix into `dest`, at its path
    /// relative to the prefix: a folder laid out as a store, for the verifier. Returns
    /// the number of objects.
    pub async fn download(&self, dest: &Path) -> Result<u64, ArchiveError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let listed = ObjectPath::from(self.prefix.as_str());
        let mut list = self.store.list(prefix.as_ref());
        let mut count = 0;
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(|e| self.request("listing of", &listed, e))?;
            let rel: Vec<String> = match meta.location.prefix_match(&listed) {
                Some(parts) => parts.map(|p| p.as_ref().to_string()).collect(),
                None => continue,
            };
            // Object names come from the object store: never let one leave `dest`.
            if rel.is_empty() || rel.iter().any(|p| p == ".." || p == "." || p.is_empty()) {
                continue;
            }
            let path = rel.iter().fold(dest.to_path_buf(), |p, part| p.join(part));
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| ArchiveError::Local {
                        path: parent.to_path_buf(),
                        source: e,
                    })?;
            }
            let got = self
                .store
                .get(&meta.location)
                .await
                .map_err(|e| self.request("download of", &meta.location, e))?;
            let mut stream = got.into_stream();
            let mut file =
                tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| ArchiveError::Local {
                        path: path.clone(),
                        source: e,
                    })?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.request("download of", &meta.location, e))?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| ArchiveError::Local {
                        path: path.clone(),
                        source: e,
                    })?;
            }
            file.flush().await.map_err(|e| ArchiveError::Local {
                path: path.clone(),
                source: e,
            })?;
            count += 1;
        }
        Ok(count)
    }
}
