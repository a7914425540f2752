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
//!
//! A prefix holds the archive of one store. Segment files are named by chain number,
//! which starts at 1 in every store, so two stores archiving under one prefix (an HA
//! pair deployed from one config template) would replace each other's objects, and a
//! store's pruned events would then exist nowhere. Hence: a prune first claims the
//! prefix ([`Archive::claim`]: its `store-id` object, written create-only, must name
//! this store), and segment objects are written create-only ([`Archive::upload`]): an
//! object already there is accepted only with the bytes of the local file (a pass
//! retried after a crash), never replaced by other bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_store::{ArchiveConfig, ArchiveLocation};
use futures_util::{FutureExt, StreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::{Path as ObjectPath, PathPart};
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes read from a local file per step of an upload.
const CHUNK: usize = 1 << 20;

/// Files up to this size are uploaded in one create-only request (`If-None-Match: *` on
/// S3, a hard link that fails on an existing name for local folders), held in memory
/// meanwhile: twice the default segment size, so that the segments of a default store
/// always are. Object stores make no multipart upload conditional: a larger file is
/// uploaded in parts after a check that its name is free (the prefix's claim keeps
/// every other store out of it).
const SINGLE_PUT_MAX: u64 = 2 * auditrail_store::DEFAULT_SEGMENT_MAX_BYTES;

/// Why archiving (or reading an archive) failed. Each names the object and the cause.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive's config is unusable.
    #[error("archive {url}: {source}")]
    Config {
        /// The archive URL.
        url: String,
        /// What is wrong.
        #[source]
        source: auditrail_store::ArchiveConfigError,
    },
    /// An S3 setting taken from the environment (`AWS_ENDPOINT`, `AWS_REGION`...) cannot
    /// go into the requests' URLs.
    #[error("archive {url}: {variable} = {value:?} (from the environment): {source}")]
    Environment {
        /// The archive URL.
        url: String,
        /// The variable (or variables) it came from.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        #[source]
        source: auditrail_store::S3ValueError,
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
    /// A local archive's object, or a folder on its path, could not be fsynced: the
    /// object may not survive a power loss, so nothing it copies is deleted.
    #[error("archive: cannot fsync {path} (an archived object and the folders on its path are made durable before the store's files are deleted)")]
    Sync {
        /// The file or folder.
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
        /// What was done (`upload of`, `read-back of`, `download of`, `listing of`,
        /// `read of`, `claim of`).
        what: &'static str,
        /// The object's path in the object store.
        object: String,
        /// The cause (boxed: the object store's error is large).
        #[source]
        source: Box<object_store::Error>,
    },
    /// The archive's prefix holds another store's archive: its `store-id` object names
    /// another store. Nothing is uploaded.
    #[error("archive {url}: the prefix belongs to store {found} ({object} names it), not to this store {ours}: a prefix holds the archive of one store (the segments of two stores have the same names and would replace each other); give each store its own archive")]
    OtherStore {
        /// The archive URL (the prefix).
        url: String,
        /// The `store-id` object's path in the object store.
        object: String,
        /// The store id the object holds.
        found: String,
        /// This store's id.
        ours: String,
    },
    /// An object to be written already exists with other bytes than the local file's:
    /// an archived object is never replaced.
    #[error("archive {url}: {object} already exists with {found}, not the {bytes} bytes with SHA-256 {sha256} of the store's file: an archived object is never replaced (the archive of another store, or an object changed in the archive)")]
    Exists {
        /// The archive URL.
        url: String,
        /// The object's path in the object store.
        object: String,
        /// What the object holds.
        found: String,
        /// Bytes of the local file.
        bytes: u64,
        /// SHA-256 of the local file (hex).
        sha256: String,
    },
    /// A local archive's folder is the store's folder, is inside it, or holds it: a
    /// prune would copy the store's files onto themselves (or into the store), then
    /// delete them.
    #[error("archive {url}: its folder {root} and the store folder {store} overlap (one is inside the other): the store's files would be archived onto themselves, then deleted; put the archive outside the store")]
    Overlaps {
        /// The archive URL.
        url: String,
        /// The archive's folder.
        root: PathBuf,
        /// The store's folder.
        store: PathBuf,
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
    /// The folder of a `file://` archive.
    local_root: Option<PathBuf>,
    /// A `file://` archive's client and its folder as the client spells it
    /// (canonical), for [`Archive::make_durable`].
    local_fs: Option<(Arc<LocalFileSystem>, PathBuf)>,
    /// See [`SINGLE_PUT_MAX`] (lower in unit tests).
    single_put_max: u64,
}

/// How long the S3 client retries a request that failed (an error answer, a timeout)
/// after its first attempt: `object_store`'s default is 3 minutes (10 retries), and a
/// frozen S3 gateway (it takes the connection and never answers: each attempt ends at
/// the 30 s request timeout) then held a retention pass, or `store prune`, for 181 s
/// per request without a word. With this, a request gives up within about a minute
/// (an attempt started before this limit runs to its own timeout) and the pass fails,
/// logged as `retention failed` and retried at the next check.
const RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How many times the S3 client retries a failed request, within [`RETRY_TIMEOUT`].
const MAX_RETRIES: usize = 3;

/// The S3 client's retries: [`MAX_RETRIES`] within [`RETRY_TIMEOUT`], with its default
/// backoff (100 ms doubling, at most 15 s). Its request timeout stays its default
/// (30 s, and 5 s to connect).
fn retry_config() -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_TIMEOUT,
        ..object_store::RetryConfig::default()
    }
}

/// How a file is written to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only under a free name.
    Create,
    /// Over what is there.
    Replace,
}

/// A write that failed: the error, and the file as read when it was read whole.
struct Failed {
    read: Option<ArchivedObject>,
    error: ArchiveError,
}

/// What writing a file did.
enum Put {
    /// Written: the object as uploaded.
    Written(ArchivedObject),
    /// The name is taken (by a pass that did not finish, or by this upload if its
    /// answer was lost): the caller compares what is there with the local file. The
    /// local file as read.
    Taken(ArchivedObject),
}

/// The archive named by the newest deletion line of the checkpoint log of the store at
/// `store`, with that line's number: `None` when that deletion kept no copy, when no
/// deletion is recorded, or when the log cannot be read (a prune that follows reads it
/// again and names what is wrong). A prune without an archive of a store whose newest
/// deletion was archived would delete with no copy where the last one kept one: a
/// config or a command line that lost the store's `archive`, not a decision. The CLI's
/// `store prune` and the server's retention refuse that; a deletion without a copy
/// recorded on purpose (`store prune --no-archive`) makes the next ones plain again.
pub fn newest_deletion_archive(store: &Path) -> Option<(u64, String)> {
    let log = crate::guard::read_log(store).ok()?;
    let newest = log.iter().rev().find(|l| l.cp.deleted.is_some())?;
    let url = newest.cp.deleted.as_ref()?.archived.as_ref()?.url.clone();
    Some((newest.cp.index, url))
}

impl Archive {
    /// Opens the archive `config` names. No request is made yet.
    pub fn open(config: &ArchiveConfig) -> Result<Archive, ArchiveError> {
        Archive::open_at(config, config.location())
    }

    /// Opens, to read it, an archive that a version before 2026-12-07 wrote under a
    /// URL holding `?` or `#`, taken literally as that version did
    /// ([`ArchiveConfig::location_as_written`]); [`open`](Self::open) refuses such a
    /// URL, which no archive is written under any more.
    pub fn open_as_written(config: &ArchiveConfig) -> Result<Archive, ArchiveError> {
        Archive::open_at(config, config.location_as_written())
    }

    fn open_at(
        config: &ArchiveConfig,
        location: Result<ArchiveLocation, auditrail_store::ArchiveConfigError>,
    ) -> Result<Archive, ArchiveError> {
        let location = location.map_err(|source| ArchiveError::Config {
            url: config.url.clone(),
            source,
        })?;
        // Recorded in deletion lines and compared by `verify`: one spelling per
        // archive.
        let url = location.url();
        let mut local_root = None;
        let mut local_fs = None;
        let (store, prefix): (Arc<dyn ObjectStore>, String) = match location {
            ArchiveLocation::File { root } => {
                // Durably: the objects' names hang from it.
                auditrail_core::durable::create_dir_all(&root).map_err(|e| ArchiveError::Sync {
                    path: root.clone(),
                    source: e,
                })?;
                let canonical = std::fs::canonicalize(&root).map_err(|e| ArchiveError::Local {
                    path: root.clone(),
                    source: e,
                })?;
                let fs = LocalFileSystem::new_with_prefix(&canonical)
                    .map_err(|e| ArchiveError::Open {
                        url: url.clone(),
                        source: Box::new(e),
                    })?
                    // A crash mid-upload never leaves a partial object behind a name.
                    .with_automatic_cleanup(true);
                let fs = Arc::new(fs);
                local_root = Some(root);
                local_fs = Some((fs.clone(), canonical));
                (fs, String::new())
            }
            ArchiveLocation::S3 { bucket, prefix } => {
                // The environment first (AWS_ACCESS_KEY_ID, AWS_REGION...), the config's
                // keys over it.
                let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(e) = &config.endpoint {
                    // object_store takes `AWS_ENDPOINT_URL_S3` (read by `from_env`) over
                    // any `with_endpoint`, whatever the order: set both, so the endpoint
                    // the operator configured is the one used.
                    b = b
                        .with_endpoint(e)
                        .with_config(AmazonS3ConfigKey::S3Endpoint, e);
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
                b = b.with_retry(retry_config());
                check_from_env(&b, config, &url)?;
                let s3 = b.build().map_err(|e| ArchiveError::Open {
                    url: url.clone(),
                    source: Box::new(e),
                })?;
                (Arc::new(s3), prefix)
            }
        };
        Ok(Archive {
            store,
            prefix,
            url,
            local_root,
            local_fs,
            single_put_max: SINGLE_PUT_MAX,
        })
    }

    /// The archive URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The object of the store's file `rel` (a `/`-separated path relative to the
    /// store root): the prefix, then `rel`'s parts as they are, so that the archive is
    /// laid out as the store. `ObjectPath::from` escapes characters some object stores
    /// advise against, `~` among them (`%7E`), and the folder of every topic or routing
    /// key that is not a plain name holds a `~` (`deployment_42~<hex>`): such objects
    /// were named otherwise than the store's files, and a copy of the archive (what
    /// `verify --archive` reads) filed their records under folders that are not theirs.
    /// The store's paths hold no control character, `.` or `..` part; a part that did
    /// would be escaped as before. The prefix keeps its escaped spelling, so that an
    /// archive written before keeps its `store-id` and checkpoint log where they are.
    fn object(&self, rel: &str) -> ObjectPath {
        let prefix = ObjectPath::from(self.prefix.as_str());
        let parts = rel
            .split('/')
            .filter(|p| !p.is_empty())
            .map(|p| PathPart::parse(p).unwrap_or_else(|_| PathPart::from(p)));
        prefix.parts().chain(parts).collect()
    }

    /// The name an earlier version gave the object of `rel` (every part escaped, see
    /// [`object`](Self::object)), when it differs from the name written now: the
    /// object the deletion lines of such a version name.
    fn escaped_object(&self, rel: &str) -> Option<ObjectPath> {
        let escaped = if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        };
        (escaped != self.object(rel)).then_some(escaped)
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

    /// For a `file://` archive: a FIFO, socket or device at `object`'s place is
    /// refused at once, naming it, as every file auditrail reads in its own folders
    /// (`regular_file::open`): `object_store`'s `LocalFileSystem` opens it with a
    /// blocking `open`, and a FIFO nobody writes held `verify DATA_DIR --archive` (and a
    /// prune's read-back) for good. Anything else (a file, a folder, nothing) is the
    /// operation's to judge.
    fn refuse_special_local(&self, object: &ObjectPath) -> Result<(), ArchiveError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let path = object
            .parts()
            .fold(root.clone(), |p, part| p.join(part.as_ref()));
        match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), &path)
                    .map(drop)
                    .map_err(|source| ArchiveError::Local { path, source })
            }
            _ => Ok(()),
        }
    }

    /// Refuses a local archive whose folder is the store's folder `store`, is inside
    /// it, or holds it ([`ArchiveError::Overlaps`]): the config check refuses such a
    /// URL already, and this holds for every caller, whatever the path's spelling
    /// (symbolic links, bind mounts: folders are compared by device and inode). An S3
    /// archive passes.
    pub fn check_apart_from(&self, store: &Path) -> Result<(), ArchiveError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        if at_or_under(root, store) || at_or_under(store, root) {
            return Err(ArchiveError::Overlaps {
                url: self.url.clone(),
                root: root.clone(),
                store: store.to_path_buf(),
            });
        }
        Ok(())
    }

    /// Claims the archive's prefix for the store `store_id`, before anything of the
    /// store is uploaded to it: reads the prefix's `store-id` object; absent, the
    /// prefix is new and gets this store's id, written create-only (of two stores
    /// claiming a new prefix at once, one wins and the other then reads its id); this
    /// store's id: the prefix is this store's. Another id:
    /// [`ArchiveError::OtherStore`], naming the prefix and both ids.
    pub async fn claim(&self, store_id: &str) -> Result<(), ArchiveError> {
        let object = self.object(auditrail_store::STORE_ID_FILE);
        self.guarded("claim of", &object, self.claim_unguarded(&object, store_id))
            .await
    }

    async fn claim_unguarded(
        &self,
        object: &ObjectPath,
        store_id: &str,
    ) -> Result<(), ArchiveError> {
        let object = object.clone();
        // The first look may find the name free and claim it; the second then reads
        // what was claimed, by this store or by the one that got there first.
        for _ in 0..2 {
            match self.store.get(&object).await {
                Ok(got) => {
                    let bytes = got
                        .bytes()
                        .await
                        .map_err(|e| self.request("read of", &object, e))?;
                    let found = String::from_utf8_lossy(&bytes).trim().to_string();
                    if found == store_id {
                        // Claimed by this call, or by one that stopped before its sync.
                        self.make_durable(&object).await?;
                        return Ok(());
                    }
                    return Err(ArchiveError::OtherStore {
                        url: self.url.clone(),
                        object: object.to_string(),
                        found: shown_id(&found),
                        ours: store_id.to_string(),
                    });
                }
                Err(object_store::Error::NotFound { .. }) => {
                    // As the store's own file: the id and a newline.
                    let payload = PutPayload::from(format!("{store_id}\n"));
                    match self
                        .store
                        .put_opts(&object, payload, PutMode::Create.into())
                        .await
                    {
                        Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => {}
                        Err(e) => return Err(self.request("claim of", &object, e)),
                    }
                }
                Err(e) => return Err(self.request("read of", &object, e)),
            }
        }
        Err(self.request(
            "read of",
            &object,
            object_store::Error::Generic {
                store: "archive",
                source: "claimed, then not found".into(),
            },
        ))
    }

    /// Uploads the local file `local` as `rel`, create-only, then reads it back (its
    /// size from a HEAD request, its bytes from a GET, hashed) and compares with what
    /// was uploaded. Returns the object as uploaded: its size and SHA-256 are those of
    /// the bytes read from `local` during the upload.
    ///
    /// The name is looked up before the upload and again after a failed one (see
    /// `put_file`), so an object already there is found whatever
    /// the transport made of a refused create-only request. An object already under
    /// that name is never replaced by other bytes:
    /// - with the local file's bytes (size and SHA-256), it is the object as uploaded
    ///   by a pass that did not finish (a crash, a failed checkpoint log upload):
    ///   accepted as is;
    /// - with the first bytes of the local file only, it is this store's earlier
    ///   upload of a segment that a late event was appended to since (that pass left
    ///   the partition, and no deletion line names the object): replaced by the whole
    ///   file, which loses nothing (segments are append-only, and the prefix was
    ///   claimed by this store, [`claim`](Self::claim));
    /// - with other bytes: [`ArchiveError::Exists`], naming the object and both
    ///   contents.
    pub async fn upload(&self, local: &Path, rel: &str) -> Result<ArchivedObject, ArchiveError> {
        let object = self.object(rel);
        self.guarded("upload of", &object, self.upload_unguarded(local, rel))
            .await
    }

    async fn upload_unguarded(
        &self,
        local: &Path,
        rel: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        let object = self.object(rel);
        let ours = match self.put_file(local, rel, Mode::Create).await? {
            Put::Written(uploaded) => {
                self.read_back_unguarded(&uploaded).await?;
                self.make_durable(&object).await?;
                return Ok(uploaded);
            }
            Put::Taken(ours) => ours,
        };
        let (sha, n) = self.hash_object(&object).await?;
        if n == ours.bytes && sha == ours.sha256 {
            // Written by a pass that did not finish, maybe not made durable before it
            // stopped.
            self.make_durable(&object).await?;
            return Ok(ours);
        }
        if n < ours.bytes && hash_local(local, n).await? == sha {
            let Put::Written(uploaded) = self.put_file(local, rel, Mode::Replace).await? else {
                unreachable!("a replacing upload takes no name");
            };
            self.read_back_unguarded(&uploaded).await?;
            self.make_durable(&object).await?;
            return Ok(uploaded);
        }
        Err(ArchiveError::Exists {
            url: self.url.clone(),
            object: object.to_string(),
            found: format!("{n} bytes with SHA-256 {sha}"),
            bytes: ours.bytes,
            sha256: ours.sha256,
        })
    }

    /// Uploads the local file `local` as `rel` over whatever the archive holds under
    /// that name, then reads it back: for the checkpoint log, which grows with every
    /// line (its older copy is a part of it), once the prefix is claimed.
    pub async fn upload_replacing(
        &self,
        local: &Path,
        rel: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        self.upload_replacing_prefix(local, rel, u64::MAX).await
    }

    /// [`upload_replacing`](Self::upload_replacing) of the first `len` bytes of
    /// `local` only (all of it when shorter): the checkpoint log as it was when a
    /// deletion line was written, uploaded while later lines may be appended to it (a
    /// line being appended is never sent half written).
    pub async fn upload_replacing_prefix(
        &self,
        local: &Path,
        rel: &str,
        len: u64,
    ) -> Result<ArchivedObject, ArchiveError> {
        let object = self.object(rel);
        self.guarded("upload of", &object, async {
            let Put::Written(uploaded) =
                self.put_file_prefix(local, rel, Mode::Replace, len).await?
            else {
                unreachable!("a replacing upload takes no name");
            };
            self.read_back_unguarded(&uploaded).await?;
            self.make_durable(&object).await?;
            Ok(uploaded)
        })
        .await
    }

    /// Makes the object `object` of a `file://` archive durable: fsyncs its file and
    /// every folder from the file's up to the archive's, which holds the first one.
    /// `object_store`'s `LocalFileSystem` writes a staging file and links or renames it
    /// into place, creating the folders on the key's path, and fsyncs none of them:
    /// until this returns, a power loss can take the object (its bytes or its name)
    /// back, while the deletion line naming it, written and fsynced next, and the
    /// unlinks of the store's files, survive. Folders that existed before are synced
    /// too: which of them an earlier, interrupted pass created is not known. The
    /// object store keeps the protocol (create-only by hard link, staging and cleanup);
    /// only the fsyncs it lacks are added here. An S3 PUT is durable when answered:
    /// nothing to do.
    async fn make_durable(&self, object: &ObjectPath) -> Result<(), ArchiveError> {
        let Some((fs, root)) = &self.local_fs else {
            return Ok(());
        };
        let file = fs
            .path_to_filesystem(object)
            .map_err(|e| self.request("fsync of", object, e))?;
        let root = root.clone();
        tokio::task::spawn_blocking(move || sync_local_object(&root, &file))
            .await
            .map_err(|e| ArchiveError::Sync {
                path: object.as_ref().into(),
                source: std::io::Error::other(e),
            })?
    }

    /// Writes the local file `local` as `rel`: in one request up to
    /// [`SINGLE_PUT_MAX`] bytes (create-only in [`Mode::Create`]), in parts above it.
    ///
    /// In [`Mode::Create`] a HEAD request comes first, whatever the size: a name
    /// already taken (a pass that did not finish) is then compared without sending
    /// the file again. An S3 server may also refuse a create-only request before its
    /// body is sent and close the connection, which the client reports as a transport
    /// error ("error writing a body to connection"), not as `AlreadyExists`: after a
    /// failed create-only upload the name is looked up again, and an object found
    /// there is [`Put::Taken`] (the caller compares its bytes) rather than an error.
    async fn put_file(&self, local: &Path, rel: &str, mode: Mode) -> Result<Put, ArchiveError> {
        self.put_file_prefix(local, rel, mode, u64::MAX).await
    }

    /// [`put_file`](Self::put_file) of the first `len` bytes of `local` at most.
    async fn put_file_prefix(
        &self,
        local: &Path,
        rel: &str,
        mode: Mode,
        len: u64,
    ) -> Result<Put, ArchiveError> {
        let object = self.object(rel);
        if mode == Mode::Create && self.exists(&object, "upload of").await? {
            return Ok(Put::Taken(hash_file(local, rel).await?));
        }
        match self.write_file(local, rel, &object, mode, len).await {
            Err(Failed { read, error }) if mode == Mode::Create => {
                match self.exists(&object, "upload of").await {
                    Ok(true) => Ok(Put::Taken(match read {
                        Some(read) => read,
                        None => hash_file(local, rel).await?,
                    })),
                    // Not there, or not to be told: the upload's own error says why.
                    Ok(false) | Err(_) => Err(error),
                }
            }
            Err(Failed { error, .. }) => Err(error),
            Ok(written) => Ok(Put::Written(written)),
        }
    }

    /// Whether the archive holds an object under `object` (a HEAD request).
    async fn exists(&self, object: &ObjectPath, what: &'static str) -> Result<bool, ArchiveError> {
        match self.store.head(object).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.request(what, object, e)),
        }
    }

    /// Sends the local file `local` to `object`, see [`put_file`](Self::put_file).
    async fn write_file(
        &self,
        local: &Path,
        rel: &str,
        object: &ObjectPath,
        mode: Mode,
        len: u64,
    ) -> Result<ArchivedObject, Failed> {
        let local_err = |e| Failed {
            read: None,
            error: ArchiveError::Local {
                path: local.to_path_buf(),
                source: e,
            },
        };
        let upload_err = |e| Failed {
            read: None,
            error: self.request("upload of", object, e),
        };
        let file = open_local(local).await.map_err(local_err)?;
        let size = file.metadata().await.map_err(local_err)?.len().min(len);
        // Reads stop at `len`: bytes appended to the file since then are not sent.
        let mut file = file.take(len);
        let mut hash = Sha256::new();
        let mut bytes = 0u64;
        let mut buf = vec![0u8; CHUNK];
        if size <= self.single_put_max {
            let mut chunks = Vec::new();
            loop {
                let n = file.read(&mut buf).await.map_err(local_err)?;
                if n == 0 {
                    break;
                }
                hash.update(&buf[..n]);
                bytes += n as u64;
                chunks.push(bytes::Bytes::copy_from_slice(&buf[..n]));
            }
            let read = ArchivedObject {
                path: rel.to_string(),
                sha256: hex::encode(hash.finalize()),
                bytes,
            };
            let put_mode = match mode {
                Mode::Create => PutMode::Create,
                Mode::Replace => PutMode::Overwrite,
            };
            return match self
                .store
                .put_opts(object, chunks.into_iter().collect(), put_mode.into())
                .await
            {
                Ok(_) => Ok(read),
                Err(e) => Err(Failed {
                    read: Some(read),
                    error: self.request("upload of", object, e),
                }),
            };
        }
        let mut writer = BufWriter::new(self.store.clone(), object.clone());
        loop {
            let n = file.read(&mut buf).await.map_err(local_err)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            bytes += n as u64;
            if let Err(e) = writer.put(bytes::Bytes::copy_from_slice(&buf[..n])).await {
                let _ = writer.abort().await;
                return Err(upload_err(e));
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
            return Err(upload_err(cause));
        }
        Ok(ArchivedObject {
            path: rel.to_string(),
            sha256: hex::encode(hash.finalize()),
            bytes,
        })
    }

    /// Checks that the archive holds `expected`: its size (HEAD) and its bytes' SHA-256
    /// (GET).
    /// An object archived by an earlier version under its escaped name
    /// (`escaped_object`) is looked up there when its name
    /// now holds none.
    pub async fn read_back(&self, expected: &ArchivedObject) -> Result<(), ArchiveError> {
        let object = self.object(&expected.path);
        self.guarded("read-back of", &object, async {
            let found = self.read_back_unguarded(expected).await;
            let missing = matches!(&found, Err(ArchiveError::Request { source, .. })
                if matches!(**source, object_store::Error::NotFound { .. }));
            if let (true, Some(escaped)) = (missing, self.escaped_object(&expected.path)) {
                if self.exists(&escaped, "read-back of").await? {
                    return self.read_back_object(&escaped, expected).await;
                }
            }
            found
        })
        .await
    }

    async fn read_back_unguarded(&self, expected: &ArchivedObject) -> Result<(), ArchiveError> {
        self.read_back_object(&self.object(&expected.path), expected)
            .await
    }

    /// Checks that the archive's object `object` holds `expected` (see
    /// [`read_back`](Self::read_back)).
    async fn read_back_object(
        &self,
        object: &ObjectPath,
        expected: &ArchivedObject,
    ) -> Result<(), ArchiveError> {
        let object = object.clone();
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

    /// The key (the object's path in the object store) of `rel`, for messages.
    pub fn key(&self, rel: &str) -> String {
        self.object(rel).to_string()
    }

    /// The bytes of the object `rel`, or `None` when there is none.
    pub async fn read(&self, rel: &str) -> Result<Option<bytes::Bytes>, ArchiveError> {
        let object = self.object(rel);
        self.guarded("read of", &object, async {
            match self.store.get(&object).await {
                Ok(got) => got
                    .bytes()
                    .await
                    .map(Some)
                    .map_err(|e| self.request("read of", &object, e)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.request("read of", &object, e)),
            }
        })
        .await
    }

    /// Runs `op`, an operation on the object `object`, with a panic inside it turned
    /// into an error naming the operation and the object (a
    /// [`Request`](ArchiveError::Request) error whose cause says the client
    /// panicked): the object store client panics on some inputs (it builds its
    /// requests' URIs with `expect`: an endpoint without a scheme panicked at the first
    /// request), and a panic must neither end the server's retention task (which then
    /// logged nothing and ran no more passes) nor end a command with a backtrace. The
    /// config check refuses the inputs known to do it; this holds for any other.
    async fn guarded<T>(
        &self,
        what: &'static str,
        object: &ObjectPath,
        op: impl std::future::Future<Output = Result<T, ArchiveError>>,
    ) -> Result<T, ArchiveError> {
        self.refuse_special_local(object)?;
        match std::panic::AssertUnwindSafe(op).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|m| (*m).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                Err(self.request(
                    what,
                    object,
                    object_store::Error::Generic {
                        store: "archive",
                        source: format!("the object store client panicked: {message}").into(),
                    },
                ))
            }
        }
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
    /// the number of objects. `dest` must be a new, empty folder.
    ///
    /// A name an earlier version wrote escaped (`deployment_42%7E<hex>`, see
    /// `object`) is copied under the store's name
    /// (`deployment_42~<hex>`), which no store file's name escapes (folder names hold
    /// no `%`). When the archive holds an object under both names (a pass of such a
    /// version that did not finish, then a later one), the copy is the one under the
    /// store's name, which the later pass wrote and read back whole.
    pub async fn download(&self, dest: &Path) -> Result<u64, ArchiveError> {
        let listed = ObjectPath::from(self.prefix.as_str());
        self.guarded("download of", &listed, self.download_unguarded(dest))
            .await
    }

    async fn download_unguarded(&self, dest: &Path) -> Result<u64, ArchiveError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let listed = ObjectPath::from(self.prefix.as_str());
        let mut list = self.store.list(prefix.as_ref());
        let mut count = 0;
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(|e| self.request("listing of", &listed, e))?;
            let rel: Vec<String> = match meta.location.prefix_match(&listed) {
                Some(parts) => parts.map(|p| unescaped(p.as_ref())).collect(),
                None => continue,
            };
            // Object names come from the object store: never let one leave `dest`.
            if rel.is_empty() || rel.iter().any(|p| p == ".." || p == "." || p.is_empty()) {
                continue;
            }
            let path = rel.iter().fold(dest.to_path_buf(), |p, part| p.join(part));
            let escaped = meta.location.as_ref() != self.object(&rel.join("/")).as_ref();
            if escaped && tokio::fs::try_exists(&path).await.unwrap_or(false) {
                // Also under the store's name, copied already: that one is kept.
                continue;
            }
            if let Some(parent) = path.parent() {
                // The copy holds audit data: its folders and files get the modes of
                // every other copy auditrail makes (`auditrail_core::file_mode`), not
                // std's defaults, which let every local user list and read them.
                let mut folders = tokio::fs::DirBuilder::new();
                folders.recursive(true);
                #[cfg(unix)]
                folders.mode(auditrail_core::file_mode::AUDIT_FOLDER);
                folders
                    .create(parent)
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
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            options.mode(auditrail_core::file_mode::AUDIT_DATA);
            let mut file = options.open(&path).await.map_err(|e| ArchiveError::Local {
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

/// Checks the S3 settings that came from the environment (`AWS_ENDPOINT`,
/// `AWS_ENDPOINT_URL_S3`, `AWS_REGION`) as [`ArchiveConfig::location`] checks the
/// config's: they go into every request's URL, and one the client cannot parse made it
/// panic at the first request. The config's own values were checked already. The
/// reason names the variable.
fn check_from_env(
    b: &AmazonS3Builder,
    config: &ArchiveConfig,
    url: &str,
) -> Result<(), ArchiveError> {
    let from_env = |variable, value, source| ArchiveError::Environment {
        url: url.to_owned(),
        variable,
        value,
        source,
    };
    if config.endpoint.is_none() {
        // This one takes precedence over `AWS_ENDPOINT` in the S3 client; a configured
        // endpoint replaced both (above).
        if let Some(e) = b.get_config_value(&AmazonS3ConfigKey::S3Endpoint) {
            auditrail_store::check_s3_endpoint(&e)
                .map_err(|r| from_env("AWS_ENDPOINT_URL_S3", e, r))?;
        }
        if let Some(e) = b.get_config_value(&AmazonS3ConfigKey::Endpoint) {
            auditrail_store::check_s3_endpoint(&e)
                .map_err(|r| from_env("AWS_ENDPOINT (or AWS_ENDPOINT_URL)", e, r))?;
        }
    }
    if config.region.is_none() {
        if let Some(r) = b.get_config_value(&AmazonS3ConfigKey::Region) {
            auditrail_store::check_region(&r)
                .map_err(|reason| from_env("AWS_REGION (or AWS_DEFAULT_REGION)", r, reason))?;
        }
    }
    Ok(())
}

/// The part `part` of an object's name as the store spells it: what an earlier
/// version escaped (`%7E` for `~`, see [`Archive::object`]) unescaped. A part that
/// would not unescape to one folder or file name (not UTF-8, or holding a `/` or NUL)
/// stays as it is.
fn unescaped(part: &str) -> String {
    match percent_encoding::percent_decode_str(part).decode_utf8() {
        Ok(name) if !name.contains(['/', '\\', '\0']) => name.into_owned(),
        _ => part.to_string(),
    }
}

/// fsyncs the file `file` of a local archive, then each folder from its own up to
/// `root` (the archive's folder), see [`Archive::make_durable`].
fn sync_local_object(root: &Path, file: &Path) -> Result<(), ArchiveError> {
    let sync = |path: &Path, is_dir: bool| {
        #[cfg(test)]
        tests::record_sync(path);
        let synced = if is_dir {
            auditrail_core::durable::sync_dir(path)
        } else {
            std::fs::File::open(path).and_then(|f| f.sync_all())
        };
        synced.map_err(|source| ArchiveError::Sync {
            path: path.to_path_buf(),
            source,
        })
    };
    sync(file, false)?;
    let mut dir = file.parent();
    while let Some(d) = dir {
        if !d.starts_with(root) {
            break;
        }
        sync(d, true)?;
        dir = d.parent();
    }
    Ok(())
}

/// A store id read from an archive, for a message: as it is when it looks like one,
/// else quoted and cut (the object may hold anything).
pub(crate) fn shown_id(found: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if !found.is_empty() && found.len() <= 64 && found.chars().all(plain) {
        found.to_string()
    } else {
        let cut: String = found.chars().take(64).collect();
        format!(
            "{cut:?}{}",
            if cut.len() < found.len() { "..." } else { "" }
        )
    }
}

/// The local file `local` as it would be archived as `rel`: its size and SHA-256.
async fn hash_file(local: &Path, rel: &str) -> Result<ArchivedObject, ArchiveError> {
    let (sha256, bytes) = hash_local_prefix(local, u64::MAX).await?;
    Ok(ArchivedObject {
        path: rel.to_string(),
        sha256,
        bytes,
    })
}

/// SHA-256 (hex) of the first `n` bytes of the local file `local` (all of it when
/// shorter).
async fn hash_local(local: &Path, n: u64) -> Result<String, ArchiveError> {
    Ok(hash_local_prefix(local, n).await?.0)
}

/// Opens a store's file to send or hash it, as the files of a data dir are opened
/// ([`auditrail_core::regular_file::open`]): a FIFO, socket or device at its name (a
/// segment or checkpoint log piece replaced by hand) is refused at once naming it,
/// where `tokio::fs::File::open` of a FIFO waited for a writer, and the pass with it,
/// for ever. Every read of it stops at the length the caller gives.
async fn open_local(local: &Path) -> std::io::Result<tokio::fs::File> {
    let path = local.to_path_buf();
    let file = tokio::task::spawn_blocking(move || {
        auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), &path)
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(tokio::fs::File::from_std(file))
}

async fn hash_local_prefix(local: &Path, limit: u64) -> Result<(String, u64), ArchiveError> {
    let local_err = |e| ArchiveError::Local {
        path: local.to_path_buf(),
        source: e,
    };
    let mut file = open_local(local).await.map_err(local_err)?;
    let mut hash = Sha256::new();
    let mut read = 0u64;
    let mut buf = vec![0u8; CHUNK];
    while read < limit {
        let want = usize::try_from(limit - read).map_or(CHUNK, |left| left.min(CHUNK));
        let n = file.read(&mut buf[..want]).await.map_err(local_err)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        read += n as u64;
    }
    Ok((hex::encode(hash.finalize()), read))
}

/// Whether the folder `inner` is the folder `outer` or inside it, by their canonical
/// paths and, on Unix, by device and inode too, so that no spelling of a path (a
/// symbolic link, `..`, a bind mount) hides that two are one. A folder that cannot be
/// read is not inside.
fn at_or_under(inner: &Path, outer: &Path) -> bool {
    let (Ok(inner), Ok(outer)) = (inner.canonicalize(), outer.canonicalize()) else {
        return false;
    };
    inner.starts_with(&outer) || same_folder_above(&inner, &outer)
}

#[cfg(unix)]
fn same_folder_above(inner: &Path, outer: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(o) = std::fs::metadata(outer) else {
        return false;
    };
    inner
        .ancestors()
        .any(|a| std::fs::metadata(a).is_ok_and(|m| m.dev() == o.dev() && m.ino() == o.ino()))
}

#[cfg(not(unix))]
fn same_folder_above(_: &Path, _: &Path) -> bool {
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// The files and folders a local archive's writer fsynced (every test's: each
    /// filters by its own temporary folder).
    static SYNCED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

    pub(super) fn record_sync(path: &Path) {
        SYNCED.lock().unwrap().push(path.to_path_buf());
    }

    /// What was fsynced under `dir` since the last call, in order.
    fn take_synced_under(dir: &Path) -> Vec<PathBuf> {
        let mut all = SYNCED.lock().unwrap();
        let (ours, others) = all.drain(..).partition(|p| p.starts_with(dir));
        *all = others;
        ours
    }

    fn archive(folder: &Path, single_put_max: u64) -> Archive {
        let config = ArchiveConfig::url(format!("file://{}", folder.display()));
        Archive {
            single_put_max,
            ..Archive::open(&config).unwrap()
        }
    }

    /// Both ways of writing (one create-only request, and parts after a check that
    /// the name is free): a new name is written, the same bytes again are taken as
    /// they are, a continuation of the bytes replaces them, other bytes are refused.
    #[tokio::test]
    async fn objects_are_created_once_and_never_replaced_by_other_bytes() {
        for single_put_max in [SINGLE_PUT_MAX, 16] {
            let dir = tempfile::tempdir().unwrap();
            let a = archive(&dir.path().join("archive"), single_put_max);
            let local = dir.path().join("segment");
            let object = dir.path().join("archive/t/1.jsonl");
            std::fs::write(&local, "line one of the segment\n").unwrap();
            let first = a.upload(&local, "t/1.jsonl").await.unwrap();
            assert_eq!(first.bytes, 24);
            assert_eq!(
                std::fs::read(&object).unwrap(),
                std::fs::read(&local).unwrap()
            );
            // Again: taken as it is.
            assert_eq!(a.upload(&local, "t/1.jsonl").await.unwrap(), first);
            // Grown (appended to): replaced by the whole file.
            std::fs::write(&local, "line one of the segment\nline two\n").unwrap();
            let grown = a.upload(&local, "t/1.jsonl").await.unwrap();
            assert_eq!(grown.bytes, 33);
            assert_eq!(
                std::fs::read(&object).unwrap(),
                std::fs::read(&local).unwrap()
            );
            // Other bytes: refused, the object stays.
            std::fs::write(&local, "another store's line one, and more\n").unwrap();
            let err = a.upload(&local, "t/1.jsonl").await.unwrap_err();
            assert!(
                matches!(&err, ArchiveError::Exists { object, bytes: 35, .. } if object == "t/1.jsonl"),
                "{err}"
            );
            assert_eq!(
                std::fs::read_to_string(&object).unwrap(),
                "line one of the segment\nline two\n"
            );
        }
    }

    /// Objects of an earlier version, whose keys escaped `~` (`k%7E1`), stay readable:
    /// a read-back by the store's path finds them, and a download copies them under
    /// the store's path, the object under the store's own name winning when both are
    /// there.
    #[tokio::test]
    async fn objects_archived_under_escaped_names_are_read_as_the_store_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = archive(&dir.path().join("archive"), SINGLE_PUT_MAX);
        let rel = "t/k~1/2026/01/02/03/1.jsonl";
        let escaped = a.escaped_object(rel).unwrap();
        assert!(escaped.as_ref().contains("k%7E1"), "{escaped}");
        let old = bytes::Bytes::from_static(b"line one\n");
        a.store
            .put(&escaped, PutPayload::from(old.clone()))
            .await
            .unwrap();
        let expected = ArchivedObject {
            path: rel.into(),
            sha256: hex::encode(Sha256::digest(&old)),
            bytes: old.len() as u64,
        };
        a.read_back(&expected).await.unwrap();
        let copy = dir.path().join("copy");
        a.download(&copy).await.unwrap();
        assert_eq!(std::fs::read(copy.join(rel)).unwrap(), old);

        // A later pass wrote the whole file under the store's name.
        let local = dir.path().join("segment");
        std::fs::write(&local, "line one\nline two\n").unwrap();
        a.upload(&local, rel).await.unwrap();
        assert!(dir.path().join("archive").join(rel).is_file());
        let copy = dir.path().join("copy2");
        a.download(&copy).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(copy.join(rel)).unwrap(),
            "line one\nline two\n"
        );
    }

    /// A download is a copy of audit data: its folders and files are not for every
    /// local user (`auditrail_core::file_mode`: `0750` and `0640` less the umask), as
    /// every other folder and file auditrail makes to hold events. They had std's
    /// defaults (`0755`, `0644` under the usual umask).
    #[cfg(unix)]
    #[tokio::test]
    async fn a_download_makes_its_folders_and_files_with_the_audit_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = archive(&dir.path().join("archive"), SINGLE_PUT_MAX);
        let rel = "t/k1/2026/01/02/03/1.jsonl";
        let local = dir.path().join("segment");
        std::fs::write(&local, "line one\n").unwrap();
        a.upload(&local, rel).await.unwrap();
        let copy = dir.path().join("copy");
        a.download(&copy).await.unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // Others get nothing whatever the umask (it only takes bits away).
        let mut folder = copy.join(rel);
        while folder.pop() && folder != copy {
            let m = mode(&folder);
            assert_eq!(m & 0o027, 0, "{} has mode {m:o}", folder.display());
        }
        let m = mode(&copy.join(rel));
        assert_eq!(m & 0o137, 0, "the file has mode {m:o}");
    }

    /// `LocalFileSystem` fsyncs nothing: by the time an upload returns (and a deletion
    /// line may name the object), the object's file and every folder on its key's
    /// path have been fsynced, whichever way it was written, and so have the claim
    /// and the checkpoint log's copy.
    #[tokio::test]
    async fn a_local_object_and_the_folders_on_its_path_are_fsynced_before_the_upload_returns() {
        let rel = "t/k/2026/01/02/03/1.jsonl";
        for single_put_max in [SINGLE_PUT_MAX, 16] {
            let dir = tempfile::tempdir().unwrap();
            let dir = std::fs::canonicalize(dir.path()).unwrap();
            let root = dir.join("archive");
            let a = archive(&root, single_put_max);
            let local = dir.join("segment");
            std::fs::write(&local, "line one of the segment\n").unwrap();
            take_synced_under(&dir);
            let mut expected = vec![root.join(rel)];
            let mut folder = root.join(rel);
            while folder != root {
                folder = folder.parent().unwrap().to_path_buf();
                expected.push(folder.clone());
            }
            a.upload(&local, rel).await.unwrap();
            assert_eq!(take_synced_under(&dir), expected, "written");
            // Already there (a pass that stopped before its sync): synced again.
            a.upload(&local, rel).await.unwrap();
            assert_eq!(take_synced_under(&dir), expected, "taken");
            std::fs::write(&local, "line one of the segment\nline two\n").unwrap();
            a.upload(&local, rel).await.unwrap();
            assert_eq!(take_synced_under(&dir), expected, "replaced");
            a.upload_replacing(&local, "checkpoints.jsonl")
                .await
                .unwrap();
            assert_eq!(
                take_synced_under(&dir),
                vec![root.join("checkpoints.jsonl"), root.clone()],
                "checkpoint log"
            );
            a.claim("store-a").await.unwrap();
            assert_eq!(
                take_synced_under(&dir),
                vec![root.join("store-id"), root.clone()],
                "claim"
            );
        }
    }

    /// The belt behind the config check: a panic inside an operation on the archive
    /// (the S3 client panics on a request URI it cannot parse) is an error naming the
    /// operation and the object, not a panic of the caller (the server's retention
    /// task, a command).
    #[tokio::test]
    async fn a_panic_inside_an_archive_operation_is_an_error_naming_the_object() {
        let dir = tempfile::tempdir().unwrap();
        let a = archive(&dir.path().join("archive"), SINGLE_PUT_MAX);
        let object = a.object("t/1.jsonl");
        let op = async {
            if object.as_ref().is_empty() {
                return Ok(());
            }
            panic!("request must be valid: InvalidUri(InvalidFormat)");
        };
        let err = a.guarded("upload of", &object, op).await.unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(
            err.to_string().ends_with("upload of t/1.jsonl failed")
                && cause.contains(
                    "the object store client panicked: request must be valid: InvalidUri"
                ),
            "{err}: {cause}"
        );
    }

    #[tokio::test]
    async fn a_prefix_is_claimed_by_the_first_store_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = archive(&dir.path().join("archive"), SINGLE_PUT_MAX);
        a.claim("store-a").await.unwrap();
        a.claim("store-a").await.unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("archive/store-id")).unwrap(),
            "store-a\n"
        );
        let err = a.claim("store-b").await.unwrap_err().to_string();
        assert!(
            err.contains("the prefix belongs to store store-a")
                && err.contains("not to this store store-b"),
            "{err}"
        );
    }

    /// However the folder is spelled (here through a symbolic link), an archive that
    /// is the store's folder, inside it, or holding it is refused.
    #[cfg(unix)]
    #[test]
    fn a_local_archive_overlapping_the_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("data/store");
        std::fs::create_dir_all(&store).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&store, &link).unwrap();
        for folder in [link.clone(), link.join("archive"), dir.path().join("data")] {
            let err = archive(&folder, SINGLE_PUT_MAX)
                .check_apart_from(&store)
                .unwrap_err();
            assert!(matches!(err, ArchiveError::Overlaps { .. }), "{err}");
        }
        archive(&dir.path().join("archive"), SINGLE_PUT_MAX)
            .check_apart_from(&store)
            .unwrap();
    }
}
