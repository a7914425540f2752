//! `GET /readyz`: whether a batch sent now can be taken (stored, or handed to a
//! destination of another type).
//!
//! The rule: `503` only when no batch sent now could be taken, `200` as long as one
//! could. The server is not ready while shutting down, while the data folder's free
//! space is under `min_free_bytes` (every batch is refused), and while EVERY destination
//! refuses: each store's folder refusing a new file for a cause that lasts (a file
//! system mounted or remounted read-only, permissions, an I/O error), or each store
//! (not held) refusing batches for its full disk or for want of a seal
//! ([`stores_refusing`]), and no destination of another type (`kafka`, another event
//! server) beside them. In each case batches get a `503`, and a load balancer or
//! Kubernetes reading `/readyz` should send the nodes elsewhere (they spool meanwhile).
//!
//! What refuses ONE destination's batches, or a new file in one store's folder or in
//! the data folder, leaves the server ready, named under `degraded`
//! ([`Verdict::degraded`]): the other destinations' batches go on being taken (a store
//! keeps writing the folders it has, and refuses per event only those it must make a
//! new folder for at its top; the data folder holds the stores' high-water marks, which
//! then lag, as [`marks_unpublished`] says), and taking the server out of service would
//! stop every destination's nodes for one store's disk or one folder's mode. A
//! destination of another type counts as taking batches: a batch whose events all go
//! to a `kafka` destination is handed to it whatever the stores say (stop 61: one full
//! store beside a `kafka` destination made the server `503` while those batches were
//! taken). Whether it confirms them in time is named, not judged: `behind.rs`.
//!
//! A full disk is answered as the ingest answers it, per store, not from the probe:
//! the probe's block not fitting (`ENOSPC`, `EDQUOT`) said "not ready" for the file
//! system that refused it, the data folder's when the stores live on another one, or
//! a store's nearly full one that still takes small batches, while every batch was
//! taken (`200`). Now `disk_full` means what the ingest refuses with `503 disk_full`:
//! the data folder under `min_free_bytes` (every batch: not ready), or a store whose
//! last batch failed on a full disk and whose file system has under 1 MiB free, or
//! less than that batch needs (`full_disk.rs`; its batches: named under `degraded`, or
//! not ready when every store refuses).
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

use auditrail_integrity::{HighWaterMarks, IntegrityError};
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
    /// Each destination that refuses, one entry each in the shape of `degraded`'s
    /// (`destination`, `reason`, `message`, its reason's fields): `/readyz`'s
    /// `destinations`, so that a reader learns which destinations make the server not
    /// ready without parsing `message`. Empty when no destination is the cause (the
    /// data folder's floor, a probe that hangs).
    pub(crate) destinations: Vec<Degraded>,
}

/// The probe's verdict: why a batch sent now would be refused (`not_ready`), and what
/// refuses new files without refusing batches (`degraded`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) not_ready: Option<NotReady>,
    pub(crate) degraded: Vec<Degraded>,
}

impl From<NotReady> for Verdict {
    fn from(n: NotReady) -> Verdict {
        Verdict {
            not_ready: Some(n),
            degraded: Vec::new(),
        }
    }
}

/// The folders a batch is written to, and the last verdict on them.
#[derive(Debug)]
pub(crate) struct Readiness {
    /// (the store destination's name, its folder).
    stores: Vec<(String, PathBuf)>,
    /// Whether a destination that is not a store (`kafka`, ...) takes batches beside
    /// them: then no store folder's refusal makes the server not ready.
    others: bool,
    data_dir: PathBuf,
    /// The server's high-water marks, kept in the data folder: whether that folder is
    /// still the one the server opened ([`HighWaterMarks::check_folder`]).
    marks: Option<std::sync::Arc<HighWaterMarks>>,
    min_free_bytes: u64,
    state: Mutex<ProbeState>,
}

/// The last verdict and the probe in progress.
#[derive(Debug, Default)]
struct ProbeState {
    last: Option<(Instant, Verdict)>,
    /// When the probe in progress started.
    probing: Option<Instant>,
}

impl NotReady {
    fn internal() -> NotReady {
        NotReady {
            reason: "io_error",
            message: "the readiness probe failed (a poisoned lock)".to_owned(),
            destinations: Vec::new(),
        }
    }
}

impl Readiness {
    pub(crate) fn new(
        data_dir: PathBuf,
        stores: Vec<(String, PathBuf)>,
        others: bool,
        min_free_bytes: u64,
    ) -> Readiness {
        Readiness {
            stores,
            others,
            data_dir,
            marks: None,
            min_free_bytes,
            state: Mutex::new(ProbeState::default()),
        }
    }

    /// Checks at each probe that the data folder holding `marks` is still the one the
    /// server opened.
    pub(crate) fn with_marks(mut self, marks: std::sync::Arc<HighWaterMarks>) -> Readiness {
        self.marks = Some(marks);
        self
    }

    /// The verdict, probed now if the last one is older than [`PROBE_MAX_AGE`].
    /// Blocking (file system calls): call it off the async threads. One probe runs at
    /// a time: callers that find one running get the last verdict without waiting,
    /// and, once the running probe is older than [`PROBE_HUNG_AFTER`], not ready
    /// (a folder whose file system hangs: every batch would wait too). Callers never
    /// queue behind a hung probe, so `/readyz` cannot use up the blocking threads the
    /// store writers need.
    pub(crate) fn check(&self) -> Verdict {
        let now = Instant::now();
        {
            let Ok(mut state) = self.state.lock() else {
                return NotReady::internal().into();
            };
            if let Some((at, verdict)) = &state.last {
                if now.duration_since(*at) < PROBE_MAX_AGE {
                    return verdict.clone();
                }
            }
            if let Some(started) = state.probing {
                let running = now.duration_since(started);
                if running >= PROBE_HUNG_AFTER {
                    return Verdict::from(NotReady {
                        reason: "io_error",
                        message: format!(
                            "a probe of the folders written to has not returned for {} s \
                             (a file system that hangs): batches would wait too",
                            running.as_secs()
                        ),
                        destinations: Vec::new(),
                    });
                }
                return state
                    .last
                    .as_ref()
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
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

    fn probe(&self) -> Verdict {
        let mut degraded = Vec::new();
        let moved = match self.marks.as_deref().map(HighWaterMarks::check_folder) {
            Some(Err(IntegrityError::MarksFolderMoved { found, .. })) => Some(found),
            _ => None,
        };
        if let Some(found) = moved {
            // Moved away (or another folder at its path, which the probe below would
            // find writable): the server writes nothing at its path. No path here:
            // `/readyz` needs no key; the server's log names the folder (WARN).
            degraded.push(Degraded {
                reason: "data_folder_moved",
                message: format!(
                    "the data folder: {found}: batches are still stored and sealed in the \
                     stores outside it, but nothing is written at its path (the signing \
                     key, the lock, the high-water marks and the witnesses' record of \
                     the lines given went with the folder): the \
                     stores' high-water marks lag (each store is named here, \
                     high_water_mark_unwritten, once its mark is due), and a rollback of \
                     a store at the next start is caught only up to the last mark \
                     written; cleared once the folder is back at its path"
                ),
                ..Degraded::default()
            });
        } else if let Some((reason, e)) = refusal(&self.data_dir, "the data folder") {
            // What refuses then: the files the server rewrites there (each store's
            // high-water mark; `marks_unpublished` names the stores), not batches.
            degraded.push(Degraded {
                reason: "data_folder_refuses_writes",
                message: format!(
                    "the data folder refuses a new file ({reason}: {e}): batches are still \
                     stored and sealed in the stores, but the files the server rewrites \
                     there cannot be: the stores' high-water marks lag (once a mark is \
                     due, `[checkpoints] every_seconds`, the server's log says `writing a \
                     checkpoint failed` once, and each store is named here), and \
                     a rollback of a store at the next start is caught only up to the \
                     last mark written; cleared once it takes new files again"
                ),
                ..Degraded::default()
            });
        }
        let mut refusing = Vec::new();
        for (name, folder) in &self.stores {
            if let Some((reason, e)) = refusal(folder, &format!("store destination {name:?}")) {
                refusing.push((name, reason, e));
            }
        }
        if !refusing.is_empty() && refusing.len() == self.stores.len() && !self.others {
            // Every store refuses, and no other destination takes batches: nothing new
            // can be taken anywhere.
            let (name, reason, e) = &refusing[0];
            let mut others = match refusing.len() {
                1 => String::new(),
                n => format!(" (as do the other {} store destinations", n - 1),
            };
            if !degraded.is_empty() {
                // The data folder's refusal (the only entry so far).
                others = if others.is_empty() {
                    " (as does the data folder".to_owned()
                } else {
                    others + ", and the data folder"
                };
            }
            if !others.is_empty() {
                others.push(')');
            }
            // A folder gone (moved or removed): its batches fail, not only new files.
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "store destination {name:?}: its folder is gone ({e}; moved or removed \
                     while the server runs){others}: its batches fail and are refused (503 \
                     store_failing) until the folder is back"
                )
            } else {
                format!(
                    "store destination {name:?} refuses a new file ({e}){others}: {STORE_REFUSES}"
                )
            };
            let destinations = refusing
                .iter()
                .map(|(name, reason, e)| Degraded {
                    reason,
                    store: Some((*name).clone()),
                    message: format!("store destination {name:?} refuses a new file ({e})"),
                    ..Degraded::default()
                })
                .collect();
            return Verdict {
                not_ready: Some(NotReady {
                    reason,
                    message,
                    destinations,
                }),
                degraded,
            };
        }
        for (name, reason, e) in refusing {
            degraded.push(Degraded {
                reason: "store_refuses_new_files",
                store: Some(name.clone()),
                message: if e.kind() == std::io::ErrorKind::NotFound {
                    // Its folder gone (moved or removed): its open files are elsewhere
                    // now, and its batches fail (`store_failing`), not only new files.
                    format!(
                        "store destination {name:?}: its folder is gone ({reason}: {e}; \
                         moved or removed while the server runs): its batches fail and \
                         are refused (503 store_failing) until the folder is back; the \
                         other destinations are not concerned"
                    )
                } else {
                    format!(
                        "store destination {name:?} refuses a new file in its folder \
                         ({reason}: {e}): {STORE_REFUSES}; the other destinations are not \
                         concerned"
                    )
                },
                ..Degraded::default()
            });
        }
        let not_ready = self.floor();
        Verdict {
            not_ready,
            degraded,
        }
    }

    /// The data folder's free space under `min_free_bytes` (or unreadable, with a
    /// floor set): batches are refused.
    fn floor(&self) -> Option<NotReady> {
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
                    destinations: Vec::new(),
                }),
                None => Some(NotReady {
                    reason: "disk_unknown",
                    message: "the free space of the data folder cannot be read \
                              (min_free_bytes is set): batches are refused (503)"
                        .to_owned(),
                    destinations: Vec::new(),
                }),
            };
        }
        None
    }
}

/// What the ingest answers while a store's folder refuses new files. A store keeps
/// writing the partitions it has open and refuses, per event, those it must make a
/// new folder or file for there (docs/store.md): it never refuses whole batches.
const STORE_REFUSES: &str = "events it must make a new partition folder or segment for \
    are refused (503 refused_for_now, naming the folder; the node sends them again), \
    events of the partitions it has open are stored, until it takes new files again";

/// Whether `folder` takes a new file: `None` when it does (or when only the probe's
/// block does not fit: no refusal), else the reason (`read_only_file_system`,
/// `permission_denied`, `io_error`) and the OS error, logged (WARN) naming `what`.
fn refusal(folder: &std::path::Path, what: &str) -> Option<(&'static str, std::io::Error)> {
    use rustix::io::Errno;
    let e = probe_folder(folder).err()?;
    let reason = match Errno::from_io_error(&e) {
        // No room for the probe's block is not a refusal: a batch may still fit, and
        // the ingest takes it (the store's disk flag and the floor say when it would
        // not).
        Some(Errno::NOSPC | Errno::DQUOT) => {
            tracing::debug!(folder = %folder.display(), error = %e, "the readiness probe's block does not fit in {what}");
            return None;
        }
        Some(Errno::ROFS) => "read_only_file_system",
        Some(Errno::ACCESS | Errno::PERM) => "permission_denied",
        _ => "io_error",
    };
    tracing::warn!(folder = %folder.display(), error = %e, "a new file cannot be made in {what}");
    Some((reason, e))
}

/// Each chained store whose last checkpoint line, written and sealed, cannot be
/// published: its high-water mark in the data folder cannot be written
/// (`StoreIntegrity::unpublished`; the checkpoint task logs it once, as `writing a
/// checkpoint failed`, and its end once). Batches are acknowledged meanwhile: degraded, not
/// unready. Read from memory at each call.
pub(crate) fn marks_unpublished(destinations: &crate::destinations::Destinations) -> Vec<Degraded> {
    destinations
        .stores()
        .filter_map(|(_, d, s)| {
            let e = s.integrity()?.unpublished()?;
            let said = match &*e {
                // The path is the data folder's marks file: no key is needed here.
                auditrail_integrity::IntegrityError::Io { source, .. } => source.to_string(),
                // Said without the folder's path, as the data folder's own entry.
                auditrail_integrity::IntegrityError::MarksFolderMoved { found, .. } => {
                    format!("the data folder: {found}")
                }
                other => other.to_string(),
            };
            Some(Degraded {
                reason: "high_water_mark_unwritten",
                store: Some(d.name.clone()),
                message: format!(
                    "store destination {:?}: its checkpoints are written and its batches \
                     sealed and acknowledged, but its high-water mark in the data folder \
                     cannot be written ({said}; the server's log says `writing a \
                     checkpoint failed` once, and when it works again): \
                     until it can, a rollback of the store at the next start is caught \
                     only up to the last mark written",
                    d.name
                ),
                ..Degraded::default()
            })
        })
        .collect()
}

/// The store destinations (not held) whose batches are refused now, and why: a full
/// disk (`503 disk_full`: its last batch failed with no space left and its file system
/// has under 1 MiB free, or less than that batch needs), a last batch failing with
/// another retried error (`503 store_failing`), each as the ingest decides it
/// (`head_refusal.rs`: one look, one decision), or no seal (`503
/// unsealed`: see `auditrail_integrity::StoreIntegrity::seal_blocked`; its checkpoint
/// log moved, removed, replaced or truncated by someone else, or the last seal failed).
///
/// While another store takes batches, each is named under `degraded` and the server
/// stays ready: a probe taking it out of service would stop the other stores'
/// collection too, as for a held store (final60/02: one store's cut log made `/readyz`
/// say every batch was refused; stop 61: so did one store's full disk, and the ingest
/// refused every store's batches). Not ready when the stores refusing, for either
/// cause, are every store not held, and no destination of another type (`kafka`, ...)
/// takes batches beside them: no batch can be taken then (one store full and the
/// other unsealed included). With such a destination, each store is named under
/// `degraded` and the server stays ready: batches whose events go only to it are
/// taken. Its reason is then `disk_full` when a store's disk is
/// full (what the ingest answers first), else `store_failing` when a store's last
/// batch fails, else `unsealed`; the message names each store and why.
///
/// Checked at each `/readyz` (a `stat` and an `fstat` per store, and a `statvfs` per
/// store whose last batch met a full disk), not cached as the folder probe is: the log
/// being put back, or space freed, makes the server ready at once. Names the
/// destination, never a path (`/readyz` needs no key); the server's log has the cause.
pub(crate) fn stores_refusing(
    destinations: &crate::destinations::Destinations,
) -> (Option<NotReady>, Vec<Degraded>) {
    // One look at each store's head and log per call, for both answers: the same
    // decision as the ingest's (`head_refusal.rs`). Full disks first, then failing
    // stores, then those that cannot seal: in the order a batch is refused.
    let mut heads = super::head_refusal::refusing_stores(destinations);
    heads.sort_by_key(|s| matches!(s.refusal, auditrail_store::HeadRefusal::Failing { .. }));
    let mut refusing: Vec<Degraded> = heads
        .into_iter()
        .map(|s| {
            let (free_bytes, batch_bytes) = match s.refusal {
                auditrail_store::HeadRefusal::DiskFull { free, batch_bytes } => {
                    (Some(free), batch_bytes)
                }
                auditrail_store::HeadRefusal::Failing { .. } => (None, None),
            };
            Degraded {
                reason: s.reason(),
                message: format!(
                    "store destination {:?}: {}: its batches are refused (503 {}) until {}",
                    s.name,
                    s.why(),
                    s.reason(),
                    s.until()
                ),
                store: Some(s.name),
                free_bytes,
                batch_bytes,
                ..Degraded::default()
            }
        })
        .collect();
    refusing.extend(unsealed(destinations).into_iter().map(|name| Degraded {
        reason: "unsealed",
        message: format!(
            "store destination {name:?} cannot seal what it stores (its checkpoint log was \
             moved, removed, truncated or appended to by someone else, or cannot be written; \
             the server's log names the cause): its batches are refused (503 unsealed) until it can"
        ),
        store: Some(name),
        ..Degraded::default()
    }));
    if refusing.is_empty() {
        return (None, Vec::new());
    }
    // A store both full and unsealed (a seal failing on the same full disk) counts once.
    let stores: std::collections::BTreeSet<&str> =
        refusing.iter().filter_map(|d| d.store.as_deref()).collect();
    let others: Vec<String> = destinations
        .not_stores()
        .map(|d| format!("destination {:?}", d.name))
        .collect();
    let every_store = stores.len() >= serving_stores(destinations);
    if every_store && others.is_empty() {
        let message = match refusing.as_slice() {
            [one] => one.message.clone(),
            all => format!(
                "no store destination takes a batch: {}",
                all.iter()
                    .map(|d| d.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        let unready = NotReady {
            reason: refusing[0].reason,
            message,
            destinations: refusing,
        };
        return (Some(unready), Vec::new());
    }
    let tail = if every_store {
        // Taken whatever the stores say: a batch none of whose events goes to a store
        // that refuses.
        format!(
            "; no store destination takes a batch, but batches whose events go only to {} \
             are taken",
            others.join(", ")
        )
    } else {
        "; the other destinations take theirs".to_owned()
    };
    for d in &mut refusing {
        d.message.push_str(&tail);
    }
    (None, refusing)
}

/// The stores (not held) that cannot seal what they store, by name.
fn unsealed(destinations: &crate::destinations::Destinations) -> Vec<String> {
    destinations
        .stores()
        .filter(|(_, _, s)| !s.is_held())
        .filter(|(_, _, s)| s.integrity().and_then(|i| i.seal_blocked()).is_some())
        .map(|(_, d, _)| d.name.clone())
        .collect()
}

/// The stores not held (those that take batches).
fn serving_stores(destinations: &crate::destinations::Destinations) -> usize {
    destinations
        .stores()
        .filter(|(_, _, s)| !s.is_held())
        .count()
}

/// A store destination that stores, but refuses for now the events of some partition
/// folders it may not write (`EACCES`, `EPERM`, `EROFS`: a partition folder made
/// immutable, its mode reset, a read-only mount below the store's root), as its
/// writer last found them (`StoreHandle::refusing_partitions`). The server stays
/// ready: the store's other partitions are stored, and taking it out of rotation for
/// one folder would stop them too; the events of those folders are answered `503
/// refused_for_now` and sent again by their nodes. The probe of the store's top folder
/// cannot see such a folder.
/// Its optional fields are each one reason's (`..Degraded::default()` for the others).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Degraded {
    /// `partition_refuses_writes`, `store_refuses_new_files`,
    /// `data_folder_refuses_writes`, `data_folder_moved`, `high_water_mark_unwritten`,
    /// `unsealed`, `disk_full`, `store_failing` or `destination_behind`.
    pub(crate) reason: &'static str,
    /// The store destination's name (`None`: the data folder, or a destination that
    /// is not a store). Said as `store` and as `destination` (see [`Degraded::json`]).
    pub(crate) store: Option<String>,
    /// How many folders refuse (`partition_refuses_writes`). Not their names:
    /// `/readyz` needs no key, and a partition folder's name holds a topic and a
    /// routing key (a tenant's name); the server's log names each folder with its OS
    /// error.
    pub(crate) partitions_refusing: Option<usize>,
    /// The free bytes of the store's file system (`disk_full`).
    pub(crate) free_bytes: Option<u64>,
    /// The bytes of the batch the store retries, when its file system has room for
    /// small batches but not for that one (`disk_full`; later batches would wait
    /// behind it).
    pub(crate) batch_bytes: Option<u64>,
    /// A destination that is not a store, by name (`destination_behind`, `behind.rs`).
    /// Said as `destination` (without `store`).
    pub(crate) destination: Option<String>,
    /// How long its oldest event not yet confirmed has waited (`destination_behind`).
    pub(crate) oldest_undelivered_ms: Option<u64>,
    pub(crate) message: String,
}

impl Degraded {
    /// The entry as `/readyz` shows it: `reason`, `message`, the fields of its reason,
    /// and `destination` in every entry about one destination (a store's entries have
    /// `store` too, the same name: the key they had before `destination` was added to
    /// them, kept for the readers of it), so that a reader finds the destination an
    /// entry names under one key whatever its reason.
    pub(crate) fn json(self) -> serde_json::Value {
        let mut one = serde_json::json!({"reason": self.reason, "message": self.message});
        if let Some(name) = self.destination.or_else(|| self.store.clone()) {
            one["destination"] = name.into();
        }
        if let Some(store) = self.store {
            one["store"] = store.into();
        }
        if let Some(n) = self.partitions_refusing {
            one["partitions_refusing"] = n.into();
        }
        if let Some(n) = self.free_bytes {
            one["free_bytes"] = n.into();
        }
        if let Some(n) = self.batch_bytes {
            one["batch_bytes"] = n.into();
        }
        if let Some(ms) = self.oldest_undelivered_ms {
            one["oldest_undelivered_ms"] = ms.into();
        }
        one
    }
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
                store: Some(d.name.clone()),
                message: format!(
                    "store destination {:?} may not write {folders} (permissions, an \
                     immutable flag or a read-only mount; the server's log names each folder \
                     and the error): their events are refused (503 refused_for_now) and \
                     sent again by their nodes, the other partitions are stored; cleared \
                     once the store writes there again",
                    d.name
                ),
                partitions_refusing: Some(refusing.len()),
                ..Degraded::default()
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
        let r = Readiness::new(dir.path().to_owned(), vec![], false, 0);
        assert_eq!(r.check(), Verdict::default());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_link_at_the_probes_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "evidence").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(PROBE_FILE)).unwrap();
        let r = Readiness::new(dir.path().to_owned(), vec![], false, 0);
        assert_eq!(r.check(), Verdict::default());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "evidence");
        assert!(!dir.path().join(PROBE_FILE).exists());
    }

    #[test]
    fn free_space_under_the_floor_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let r = Readiness::new(dir.path().to_owned(), vec![], false, u64::MAX);
        assert_eq!(r.check().not_ready.unwrap().reason, "disk_full");
    }

    #[test]
    fn a_store_folder_refusing_beside_another_destination_type_is_only_degraded() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let r = Readiness::new(dir.path().to_owned(), vec![("s".into(), gone)], true, 0);
        let verdict = r.check();
        assert_eq!(verdict.not_ready, None, "{verdict:?}");
        assert_eq!(verdict.degraded.len(), 1, "{verdict:?}");
        assert_eq!(verdict.degraded[0].reason, "store_refuses_new_files");
    }

    #[test]
    fn a_missing_store_folder_is_not_ready_naming_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let r = Readiness::new(dir.path().to_owned(), vec![("s".into(), gone)], false, 0);
        let not_ready = r.check().not_ready.unwrap();
        assert_eq!(not_ready.reason, "io_error");
        assert!(
            not_ready.message.contains("store destination \"s\""),
            "{not_ready:?}"
        );
    }
}
