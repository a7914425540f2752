//! `GET /readyz`: whether a batch sent now can be stored.
//!
//! The server is not ready while shutting down, while a folder it writes to refuses a
//! new file for a cause that lasts (a file system mounted or remounted read-only,
//! permissions, an I/O error), while the data folder's free space is under
//! `min_free_bytes`, while a store refuses batches for its full disk
//! ([`store_disk_full`]) and while a store cannot seal what it stores ([`sealing`]): in
//! each case batches get a `503`, and a load balancer or Kubernetes reading `/readyz`
//! should send the nodes elsewhere (they spool meanwhile).
//!
//! A full disk is answered as the ingest answers it, per store, not from the probe:
//! the probe's block not fitting (`ENOSPC`, `EDQUOT`) said "not ready" for the file
//! system that refused it, the data folder's when the stores live on another one, or
//! a store's nearly full one that still takes small batches, while every batch was
//! taken (`200`). Now `disk_full` means what the ingest refuses with `503 disk_full`:
//! the data folder under `min_free_bytes`, or a store whose last batch failed on a full
//! disk and whose file system has under 1 MiB free (`full_disk.rs`), named.
//!
//! Writability is probed by creating and removing a file, not read from `statvfs`'s
//! `ST_RDONLY`: since Linux 6.9 an ext4 file system that hits an error under
//! `errors=remount-ro` refuses writes (`emergency_ro`) without setting that flag, and a
//! probe also sees permissions. It writes one block (creating an empty file is not a
//! write). The probe runs at most once per
//! [`PROBE_MAX_AGE`] whatever the number of callers (`/readyz` needs no key), and
//! writes nothing durable: one block, no fsync, removed at once. Its name starts
//! with a dot in the folder's root, where the store's walker lists nothing.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How old a probe's verdict may be.
pub(crate) const PROBE_MAX_AGE: Duration = Duration::from_secs(1);

/// A probe running this long is taken as hung (not ready).
pub(crate) const PROBE_HUNG_AFTER: Duration = Duration::from_secs(10);

/// Bytes the probe writes: one block, so that a full file system (`ENOSPC`) shows;
/// creating an empty file takes only an inode and succeeds on a full disk.
const PROBE_BYTES: usize = 4096;

/// The name of the probe file in each folder.
const PROBE_FILE: &str = ".readyz-probe";

/// Why a batch sent now would be refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotReady {
    /// `read_only_file_system`, `disk_full`, `disk_unknown`, `permission_denied` or
    /// `io_error`.
    pub(crate) reason: &'static str,
    /// Names the destination (not its path: `/readyz` needs no key) and the OS error.
    pub(crate) message: String,
}

/// The folders a batch is written to, and the last verdict on them.
#[derive(Debug)]
pub(crate) struct Readiness {
    /// (what, folder): "the data folder", "store destination \"default\"".
    folders: Vec<(String, PathBuf)>,
    data_dir: PathBuf,
    min_free_bytes: u64,
    state: Mutex<ProbeState>,
}

/// The last verdict and the probe in progress.
#[derive(Debug, Default)]
struct ProbeState {
    last: Option<(Instant, Option<NotReady>)>,
    /// When the probe in progress started.
    probing: Option<Instant>,
}

impl NotReady {
    fn internal() -> NotReady {
        NotReady {
            reason: "io_error",
            message: "the readiness probe failed (a poisoned lock)".to_owned(),
        }
    }
}

impl Readiness {
    pub(crate) fn new(
        data_dir: PathBuf,
        stores: Vec<(String, PathBuf)>,
        min_free_bytes: u64,
    ) -> Readiness {
        let mut folders = vec![("the data folder".to_owned(), data_dir.clone())];
        folders.extend(
            stores
                .into_iter()
                .map(|(name, root)| (format!("store destination {name:?}"), root)),
        );
        Readiness {
            folders,
            data_dir,
            min_free_bytes,
            state: Mutex::new(ProbeState::default()),
        }
    }

    /// The verdict, probed now if the last one is older than [`PROBE_MAX_AGE`].
    /// Blocking (file system calls): call it off the async threads. One probe runs at
    /// a time: callers that find one running get the last verdict without waiting,
    /// and, once the running probe is older than [`PROBE_HUNG_AFTER`], not ready
    /// (a folder whose file system hangs: every batch would wait too). Callers never
    /// queue behind a hung probe, so `/readyz` cannot use up the blocking threads the
    /// store writers need.
    pub(crate) fn check(&self) -> Option<NotReady> {
        let now = Instant::now();
        {
            let Ok(mut state) = self.state.lock() else {
                return Some(NotReady::internal());
            };
            if let Some((at, verdict)) = &state.last {
                if now.duration_since(*at) < PROBE_MAX_AGE {
                    return verdict.clone();
                }
            }
            if let Some(started) = state.probing {
                let running = now.duration_since(started);
                if running >= PROBE_HUNG_AFTER {
                    return Some(NotReady {
                        reason: "io_error",
                        message: format!(
                            "a probe of the folders written to has not returned for {} s \
                             (a file system that hangs): batches would wait too",
                            running.as_secs()
                        ),
                    });
                }
                return state.last.as_ref().and_then(|(_, v)| v.clone());
            }
            // Taken under the same lock: one probe at a time.
            state.probing = Some(now);
        }
        let verdict = self.probe();
        if let Ok(mut state) = self.state.lock() {
            state.probing = None;
            state.last = Some((Instant::now(), verdict.clone()));
        }
        verdict
    }

    fn probe(&self) -> Option<NotReady> {
        for (what, folder) in &self.folders {
            if let Err(e) = probe_folder(folder) {
                use rustix::io::Errno;
                let reason = match Errno::from_io_error(&e) {
                    // No room for the probe's block is not a refusal: a batch may
                    // still fit, and the ingest takes it (the store's disk flag and
                    // the floor below say when it would not).
                    Some(Errno::NOSPC | Errno::DQUOT) => {
                        tracing::debug!(folder = %folder.display(), error = %e, "the readiness probe's block does not fit in {what}");
                        continue;
                    }
                    Some(Errno::ROFS) => "read_only_file_system",
                    Some(Errno::ACCESS | Errno::PERM) => "permission_denied",
                    _ => "io_error",
                };
                tracing::warn!(folder = %folder.display(), error = %e, "not ready: a new file cannot be made in {what}");
                // What the ingest answers then. A store keeps writing the partitions it
                // has open and refuses, per event, those it must make a folder or a
                // segment for (docs/store.md): it never refused whole batches, as this
                // message used to say while such batches were answered `200`.
                let answer = if *folder == self.data_dir {
                    "batches are refused (503) until it takes writes again".to_owned()
                } else {
                    "events it must make a new partition folder or segment for are refused \
                     (503 refused_for_now, naming the folder; the node sends them again), \
                     events of the partitions it has open are stored, until it takes new \
                     files again"
                        .to_owned()
                };
                return Some(NotReady {
                    reason,
                    message: format!("{what} refuses a new file ({e}): {answer}"),
                });
            }
        }
        if self.min_free_bytes > 0 {
            // As the ingest's floor (`ingest.rs`, `check_disk`), unreadable free space
            // included.
            return match crate::disk::available_bytes(&self.data_dir) {
                Some(free) if free >= self.min_free_bytes => None,
                Some(free) => Some(NotReady {
                    reason: "disk_full",
                    message: format!(
                        "the data folder has {free} bytes free, under the floor of {} \
                         (min_free_bytes): batches are refused (503)",
                        self.min_free_bytes
                    ),
                }),
                None => Some(NotReady {
                    reason: "disk_unknown",
                    message: "the free space of the data folder cannot be read \
                              (min_free_bytes is set): batches are refused (503)"
                        .to_owned(),
                }),
            };
        }
        None
    }
}

/// A store destination that stores but cannot seal (see
/// `auditrail_integrity::StoreIntegrity::seal_blocked`): its checkpoint log moved,
/// removed, replaced or truncated by someone else, or the last seal failed. Every batch
/// is then answered `503 unsealed`, so the server is not ready, though its folders take
/// files. Checked at each `/readyz` (one `stat` and `fstat` per store), not cached as
/// the folder probe is: the log being put back makes the server ready at once. The
/// message names the destination, never a path (`/readyz` needs no key); the
/// checkpoint task logs the cause every second.
pub(crate) fn sealing(destinations: &crate::destinations::Destinations) -> Option<NotReady> {
    destinations.stores().find_map(|(_, d, s)| {
        s.integrity()?.seal_blocked()?;
        Some(NotReady {
            reason: "unsealed",
            message: format!(
                "store destination {:?} cannot seal what it stores (its checkpoint log was \
                 moved, removed or truncated, or cannot be written; the server's log names \
                 the cause): batches are refused (503 unsealed) until it can",
                d.name
            ),
        })
    })
}

/// A store destination that refuses batches for its full disk, as the ingest decides
/// it (`full_disk.rs`, [`super::full_disk::refusing_store`]): its last batch failed on
/// a full disk (`ENOSPC`, `EDQUOT`) and its file system has under 1 MiB free. Ready
/// again once there is more (batches are taken again then), or with the next batch the
/// store writes (the dispatcher retries the failed one).
pub(crate) fn store_disk_full(
    destinations: &crate::destinations::Destinations,
) -> Option<NotReady> {
    let (name, free) = super::full_disk::refusing_store(destinations)?;
    Some(NotReady {
        reason: "disk_full",
        message: format!(
            "store destination {name:?}: its disk is full ({free} bytes free; its last \
             batch failed with no space left, the server's log names the file): batches \
             are refused (503 disk_full) until there is space"
        ),
    })
}

/// A store destination that stores, but refuses for now the events of some partition
/// folders it may not write (`EACCES`, `EPERM`, `EROFS`: a partition folder made
/// immutable, its mode reset, a read-only mount below the store's root), as its
/// writer last found them (`StoreHandle::refusing_partitions`). The server stays
/// ready: the store's other partitions are stored, and taking it out of rotation for
/// one folder would stop them too; the events of those folders are answered `503
/// refused_for_now` and sent again by their nodes. The probe of the store's top folder
/// cannot see such a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Degraded {
    /// `partition_refuses_writes`.
    pub(crate) reason: &'static str,
    /// The destination's name.
    pub(crate) store: String,
    /// How many folders refuse. Not their names: `/readyz` needs no key, and a
    /// partition folder's name holds a topic and a routing key (a tenant's name); the
    /// server's log names each folder with its OS error.
    pub(crate) partitions_refusing: usize,
    pub(crate) message: String,
}

/// Every store destination with partitions refusing for now ([`Degraded`]); empty
/// when none does. Read from memory at each call: a partition leaves the list as soon
/// as its events are stored again.
pub(crate) fn partitions_refusing(
    destinations: &crate::destinations::Destinations,
) -> Vec<Degraded> {
    destinations
        .stores()
        .filter_map(|(_, d, s)| {
            let refusing = s.handle.refusing_partitions();
            let folders = match refusing.len() {
                0 => return None,
                1 => "a partition folder".to_string(),
                n => format!("{n} partition folders"),
            };
            Some(Degraded {
                reason: "partition_refuses_writes",
                store: d.name.clone(),
                message: format!(
                    "store destination {:?} may not write {folders} (permissions, an \
                     immutable flag or a read-only mount; the server's log names each folder \
                     and the error): their events are refused (503 refused_for_now) and \
                     sent again by their nodes, the other partitions are stored; cleared \
                     once the store writes there again",
                    d.name
                ),
                partitions_refusing: refusing.len(),
            })
        })
        .collect()
}

/// Creates a file in `folder`, writes a block to it and removes it (no fsync: the
/// write reserves the block, which is what a full disk refuses). Created anew
/// (`O_EXCL`, `O_NOFOLLOW`): nothing at its name, a link planted there included, is
/// ever written through; a file left by a crash is removed first.
fn probe_folder(folder: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = folder.join(PROBE_FILE);
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
    };
    let mut file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&path)?;
            open()?
        }
        other => other?,
    };
    let written = file.write_all(&[0u8; PROBE_BYTES]);
    drop(file);
    let removed = match std::fs::remove_file(&path) {
        // Another probe (a second server process on the folder) removed it first.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    written.and(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_folder_is_ready_and_leaves_no_probe_behind() {
        let dir = tempfile::tempdir().unwrap();
        let r = Readiness::new(dir.path().to_owned(), vec![], 0);
        assert_eq!(r.check(), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_link_at_the_probes_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "evidence").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(PROBE_FILE)).unwrap();
        let r = Readiness::new(dir.path().to_owned(), vec![], 0);
        assert_eq!(r.check(), None);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "evidence");
        assert!(!dir.path().join(PROBE_FILE).exists());
    }

    #[test]
    fn free_space_under_the_floor_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let r = Readiness::new(dir.path().to_owned(), vec![], u64::MAX);
        assert_eq!(r.check().unwrap().reason, "disk_full");
    }

    #[test]
    fn a_missing_store_folder_is_not_ready_naming_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let r = Readiness::new(dir.path().to_owned(), vec![("s".into(), gone)], 0);
        let not_ready = r.check().unwrap();
        assert_eq!(not_ready.reason, "io_error");
        assert!(
            not_ready.message.contains("store destination \"s\""),
            "{not_ready:?}"
        );
    }
}
