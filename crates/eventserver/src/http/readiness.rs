//! `GET /readyz`: whether a batch sent now can be stored.
//!
//! The server is not ready while shutting down, while a folder it writes to refuses a
//! new file (a file system mounted or remounted read-only, permissions, no space or
//! inodes), and while the data folder's free space is under `min_free_bytes`: in each
//! case every batch gets a `503`, and a load balancer or Kubernetes reading `/readyz`
//! should send the nodes elsewhere (they spool meanwhile).
//!
//! Writability is probed by creating and removing a file, not read from `statvfs`'s
//! `ST_RDONLY`: since Linux 6.9 an ext4 file system that hits an error under
//! `errors=remount-ro` refuses writes (`emergency_ro`) without setting that flag, and a
//! probe also sees permissions and exhausted inodes. The probe runs at most once per
//! [`PROBE_MAX_AGE`] whatever the number of callers (`/readyz` needs no key), and
//! writes nothing durable: an empty file, no fsync, removed at once. Its name starts
//! with a dot in the folder's root, where the store's walker lists nothing.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How old a probe's verdict may be.
pub(crate) const PROBE_MAX_AGE: Duration = Duration::from_secs(1);

/// The name of the probe file in each folder.
const PROBE_FILE: &str = ".readyz-probe";

/// Why a batch sent now would be refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotReady {
    /// `read_only_file_system`, `disk_full`, `permission_denied` or `io_error`.
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
    last: Mutex<Option<(Instant, Option<NotReady>)>>,
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
            last: Mutex::new(None),
        }
    }

    /// The verdict, probed now if the last one is older than [`PROBE_MAX_AGE`].
    /// Blocking (file system calls): call it off the async threads. Concurrent callers
    /// wait for the probe in progress instead of starting their own.
    pub(crate) fn check(&self) -> Option<NotReady> {
        let Ok(mut last) = self.last.lock() else {
            return self.probe();
        };
        if let Some((at, verdict)) = last.as_ref() {
            if at.elapsed() < PROBE_MAX_AGE {
                return verdict.clone();
            }
        }
        let verdict = self.probe();
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }

    fn probe(&self) -> Option<NotReady> {
        for (what, folder) in &self.folders {
            if let Err(e) = probe_folder(folder) {
                use rustix::io::Errno;
                let reason = match Errno::from_io_error(&e) {
                    Some(Errno::ROFS) => "read_only_file_system",
                    Some(Errno::NOSPC | Errno::DQUOT) => "disk_full",
                    Some(Errno::ACCESS | Errno::PERM) => "permission_denied",
                    _ => "io_error",
                };
                tracing::warn!(folder = %folder.display(), error = %e, "not ready: a new file cannot be made in {what}");
                return Some(NotReady {
                    reason,
                    message: format!(
                        "{what} refuses a new file ({e}): batches are refused (503) until it \
                         takes writes again"
                    ),
                });
            }
        }
        if self.min_free_bytes > 0 {
            if let Some(free) = crate::disk::available_bytes(&self.data_dir) {
                if free < self.min_free_bytes {
                    return Some(NotReady {
                        reason: "disk_full",
                        message: format!(
                            "the data folder has {free} bytes free, under the floor of {} \
                             (min_free_bytes): batches are refused (503)",
                            self.min_free_bytes
                        ),
                    });
                }
            }
        }
        None
    }
}

/// Creates and removes an empty file in `folder`.
fn probe_folder(folder: &std::path::Path) -> std::io::Result<()> {
    let path = folder.join(PROBE_FILE);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    match std::fs::remove_file(&path) {
        // Another probe (a second server process on the folder) removed it first.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
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
