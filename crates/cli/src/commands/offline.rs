//! What the operator commands that change a stopped server's data dir or stores share
//! (`keys rotate`, `store prune`, `store accept`): finding the data dir, signing key and
//! stores (from `--config`, or from `--data-dir`; a Kafka source's partition stores
//! among them), each store's high-water marks where the server keeps them
//! ([`HighWaterMarks::of_store`]: a partition store's in its partition folder),
//! refusing what would go wrong silently, the data dir's lock, and one integrity
//! operation on one store.
//!
//! Refused, each with what to do instead:
//! - a server (or another such command) using the data dir: its lock is held;
//! - a data dir that does not exist, a `--store` that is not a store;
//! - with `--data-dir`, a store the data dir's high-water marks name but that is not
//!   under it (the server's config puts stores elsewhere: only `--config` knows them);
//! - with `--data-dir`, a store whose folder layout cannot be told from its folders;
//! - running as another user than the owner of the data dir or of a store: the files
//!   the command replaces (the key, the marks) would then belong to that user, and
//!   the server could not replace them at its next checkpoint.

use std::future::Future;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use auditrail_integrity::{
    DataDirLock, HighWaterMarks, IntegrityError, Signer, StoreIntegrity, StoreName, SECRET_KEY_FILE,
};
use auditrail_store::{Layout, StoreConfig, StoreError, StoreTarget};

/// Where a command finds the server's files, as given on its command line.
pub(crate) struct Source<'a> {
    /// `--config`.
    pub(crate) config: Option<&'a Path>,
    /// `--data-dir`.
    pub(crate) data_dir: &'a Path,
    /// `--signing-key` (only without `--config`).
    pub(crate) signing_key: Option<&'a Path>,
    /// `--store` (default: every store).
    pub(crate) stores: &'a [PathBuf],
    /// Whether the stores' layouts matter (they are opened, or their partitions
    /// read): without `--config`, each is found from the store's folders.
    pub(crate) needs_layout: bool,
}

/// The server's files: its data dir, its signing key, and the stores to work on with
/// their configs (layouts).
pub(crate) struct ServerFiles {
    pub(crate) data_dir: PathBuf,
    pub(crate) key_path: PathBuf,
    pub(crate) stores: Vec<(PathBuf, StoreConfig)>,
}

/// Finds the server's files and checks them (see the module docs), without taking any
/// lock or changing anything (a dry run can use this alone).
pub(crate) fn locate(source: &Source<'_>) -> anyhow::Result<ServerFiles> {
    let files = match source.config {
        Some(path) => {
            let config = super::server_config::load(path)?;
            // The `store` destinations, then the Kafka sources' partition stores (as
            // `verify --config` takes them; each opened as the source opens it).
            let mut configured = config.stores();
            configured.extend(
                config
                    .partition_store_paths()
                    .into_iter()
                    .map(|p| (p.clone(), StoreConfig::new(p))),
            );
            let stores = if source.stores.is_empty() {
                configured
            } else {
                source
                    .stores
                    .iter()
                    .map(|s| {
                        // The one identity of a store (links, `..` resolved), as in the
                        // high-water marks.
                        let name = StoreName::of(&config.data_dir, s);
                        configured
                            .iter()
                            .find(|(p, _)| {
                                StoreName::of(&config.data_dir, p).as_str() == name.as_str()
                            })
                            .cloned()
                            .with_context(|| {
                                format!(
                                    "{} is not the folder of a store of {} (a `store` destination, or a partition store of a Kafka source)",
                                    s.display(),
                                    path.display()
                                )
                            })
                    })
                    .collect::<anyhow::Result<_>>()?
            };
            ServerFiles {
                key_path: config.signing_key_path(),
                data_dir: config.data_dir.clone(),
                stores,
            }
        }
        None => {
            let data_dir = source.data_dir;
            if !data_dir.is_dir() {
                bail!(
                    "data dir {} does not exist (give the server's --data-dir, or its --config)",
                    data_dir.display()
                );
            }
            let paths = if source.stores.is_empty() {
                // With the partition stores of the Kafka sources whose `store_root` is
                // inside the data dir: a rotation that left them out would leave them
                // signed by a key the server no longer has.
                let found = auditrail_integrity::marks_folder::stores_under(data_dir);
                refuse_unlisted_marked_stores(data_dir, &found)?;
                found
            } else {
                source.stores.to_vec()
            };
            let stores = paths
                .into_iter()
                .map(|p| {
                    let mut config = StoreConfig::new(p.clone());
                    if !source.needs_layout {
                        return Ok((p, config));
                    }
                    let layout =
                        Layout::detect(&p).with_context(|| format!("store {}", p.display()))?;
                    config.folder_by_topic = layout.by_topic;
                    config.folder_by_routing_key = layout.by_routing_key;
                    config.partitioning = layout.partitioning;
                    Ok((p, config))
                })
                .collect::<anyhow::Result<_>>()?;
            ServerFiles {
                key_path: source
                    .signing_key
                    .map_or_else(|| data_dir.join(SECRET_KEY_FILE), Path::to_path_buf),
                data_dir: data_dir.to_path_buf(),
                stores,
            }
        }
    };
    for (path, _) in &files.stores {
        if !path.exists() {
            // Said plainly, with where the path came from: a config whose `data_dir` is
            // not the one the server runs with (`serve --data-dir` overrides it) names
            // a folder nothing wrote.
            match source.config {
                Some(config) => bail!(
                    "store {} does not exist: {} puts it under data_dir {}; if the server runs \
                     with `serve --data-dir DIR`, give --data-dir DIR here instead of --config",
                    path.display(),
                    config.display(),
                    files.data_dir.display()
                ),
                None => bail!("store {} does not exist", path.display()),
            }
        }
        if !auditrail_store::root::is_store(path) {
            bail!(
                "{} is not a store (it has neither {} nor {})",
                path.display(),
                auditrail_store::CHECKPOINT_LOG,
                auditrail_store::STORE_ID_FILE
            );
        }
    }
    if files.stores.is_empty() {
        bail!("no store under {}", files.data_dir.display());
    }
    Ok(files)
}

/// With `--data-dir` alone the stores are those found under it; the server's marks
/// name every store it ever checkpointed, so one named but not found is a store the
/// server's config puts elsewhere. Working without it would leave that store behind
/// (a rotation would delete the only key that signs its next line).
fn refuse_unlisted_marked_stores(data_dir: &Path, found: &[PathBuf]) -> anyhow::Result<()> {
    let marks = HighWaterMarks::in_data_dir(data_dir);
    let found: Vec<_> = found.iter().map(|p| marks.name_of(p)).collect();
    for line in marks.read()? {
        let Ok(mark) = line else { continue };
        if !found.iter().any(|name| name.is(&mark.store)) {
            bail!(
                "{} names store {} (checkpoint #{}), which is not under {}: the server's config has stores elsewhere; give it with --config so that every store is included",
                marks.path().display(),
                mark.store,
                mark.checkpoint,
                data_dir.display()
            );
        }
    }
    Ok(())
}

/// The operating system user running the command, for signed records: `$USER`,
/// `$LOGNAME`, else the numeric user id.
pub(crate) fn operator() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| format!("uid {}", rustix::process::geteuid().as_raw()))
}

/// A command holding the data dir: its lock, taken after the owner check.
pub(crate) struct Session {
    pub(crate) files: ServerFiles,
    /// Each store's marks (the same for the stores whose marks share a folder).
    marks: Vec<(PathBuf, Arc<HighWaterMarks>)>,
    runtime: tokio::runtime::Runtime,
    _lock: DataDirLock,
}

/// The marks of each store, where the server keeps them
/// ([`HighWaterMarks::of_store`]: the data dir, or a partition store's partition
/// folder), one `HighWaterMarks` per folder.
fn marks_of_stores(files: &ServerFiles) -> Vec<(PathBuf, Arc<HighWaterMarks>)> {
    let mut folders: Vec<Arc<HighWaterMarks>> = Vec::new();
    files
        .stores
        .iter()
        .map(|(store, _)| {
            let marks = HighWaterMarks::of_store(&files.data_dir, store);
            let shared = match folders.iter().find(|m| m.path() == marks.path()) {
                Some(m) => m.clone(),
                None => {
                    let m = Arc::new(marks);
                    folders.push(m.clone());
                    m
                }
            };
            (store.clone(), shared)
        })
        .collect()
}

impl Session {
    /// Checks that this user owns the data dir and the stores, then takes the data
    /// dir's lock for `command` (refused while a server or another command holds it).
    pub(crate) fn begin(files: ServerFiles, command: &str) -> anyhow::Result<Session> {
        let me = rustix::process::geteuid().as_raw();
        let marks = marks_of_stores(&files);
        // The folders of the marks too: a partition store's are replaced in its
        // partition folder.
        let folders: Vec<PathBuf> = marks
            .iter()
            .map(|(_, m)| m.folder().to_path_buf())
            .collect();
        for dir in std::iter::once(&files.data_dir)
            .chain(files.stores.iter().map(|(p, _)| p))
            .chain(folders.iter().filter(|f| f.is_dir()))
        {
            let owner = std::fs::metadata(dir)
                .with_context(|| dir.display().to_string())?
                .uid();
            if owner != me {
                bail!(
                    "{} belongs to uid {owner}, and this command runs as uid {me}: the files it replaces would then belong to uid {me}, and a server running as uid {owner} could not write them. Run it as the server's user (e.g. `sudo -u <that user> auditrail {command} ...`)",
                    dir.display()
                );
            }
        }
        let lock = DataDirLock::acquire(&files.data_dir, &format!("auditrail {command}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("tokio runtime")?;
        Ok(Session {
            marks,
            files,
            runtime,
            _lock: lock,
        })
    }

    /// The marks of the store at `store` (one of the session's stores), where the
    /// server keeps them: the data dir's, or a partition store's partition folder's.
    pub(crate) fn marks_of(&self, store: &Path) -> Arc<HighWaterMarks> {
        match self.marks.iter().find(|(p, _)| p == store) {
            Some((_, m)) => m.clone(),
            None => Arc::new(HighWaterMarks::of_store(&self.files.data_dir, store)),
        }
    }

    /// Every marks file of the session's stores, once each.
    pub(crate) fn all_marks(&self) -> Vec<Arc<HighWaterMarks>> {
        let mut all: Vec<Arc<HighWaterMarks>> = Vec::new();
        for (_, m) in &self.marks {
            if !all.iter().any(|a| Arc::ptr_eq(a, m)) {
                all.push(m.clone());
            }
        }
        all
    }

    /// Opens one store (its own lock, its recovery), attaches its checkpoint log
    /// with the checks the server makes at start, runs `op`, and closes both.
    pub(crate) fn with_store<T, F, Fut>(
        &self,
        path: &Path,
        config: &StoreConfig,
        signer: &Arc<Signer>,
        op: F,
    ) -> anyhow::Result<T>
    where
        F: FnOnce(Arc<StoreIntegrity>) -> Fut,
        Fut: Future<Output = Result<T, IntegrityError>>,
    {
        self.with_store_attached(path, config, signer, false, op)
    }

    /// [`with_store`](Self::with_store) for a prune, which frees space and so must
    /// run on a full disk: its attach may take the prune reserve
    /// ([`StoreIntegrity::attach_checked_stopped_making_room`]).
    pub(crate) fn with_store_pruning<T, F, Fut>(
        &self,
        path: &Path,
        config: &StoreConfig,
        signer: &Arc<Signer>,
        op: F,
    ) -> anyhow::Result<T>
    where
        F: FnOnce(Arc<StoreIntegrity>) -> Fut,
        Fut: Future<Output = Result<T, IntegrityError>>,
    {
        self.with_store_attached(path, config, signer, true, op)
    }

    fn with_store_attached<T, F, Fut>(
        &self,
        path: &Path,
        config: &StoreConfig,
        signer: &Arc<Signer>,
        pruning: bool,
        op: F,
    ) -> anyhow::Result<T>
    where
        F: FnOnce(Arc<StoreIntegrity>) -> Fut,
        Fut: Future<Output = Result<T, IntegrityError>>,
    {
        let target = StoreTarget::open(path, config, "store").map_err(|e| match e {
            StoreError::Locked { .. } => anyhow::anyhow!(
                "store {} is open by another process (a server whose data dir is not {}?): stop it first",
                path.display(),
                self.files.data_dir.display()
            ),
            e => anyhow::Error::new(e).context(format!("store {}", path.display())),
        })?;
        let handle = target.handle();
        let result = self.runtime.block_on(async {
            let attach = if pruning {
                StoreIntegrity::attach_checked_stopped_making_room
            } else {
                StoreIntegrity::attach_checked_stopped
            };
            let integrity = Arc::new(attach(&handle, signer.clone(), self.marks_of(path))?);
            let result = op(integrity.clone()).await;
            integrity.close().await?;
            result
        });
        drop(target);
        // Named once: most of the store's own errors begin with `store <path>:`.
        let named = format!("store {}", path.display());
        result.map_err(|e| {
            if e.to_string().starts_with(&named) {
                anyhow::Error::new(e)
            } else {
                anyhow::Error::new(e).context(named)
            }
        })
    }
}
