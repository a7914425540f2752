//! One Kafka partition's store: opened when the group assigns the partition, closed
//! when it is revoked. A partition's folder `<store_root>/<topic>/<partition>/` holds
//! what its owner keeps, like a small data dir that moves from server to server with
//! the partition: `store/` (the store), `high-water.jsonl` (the store's signed
//! high-water mark), `owner` (the owner epoch, see [`super::owner`]),
//! `refused-ahead.jsonl` and `refused-past-retention.jsonl` (the records refused as
//! dated too far ahead, or past the store's retention, see [`super::refused`]) and,
//! while a
//! partition that is not the one the store was filled from is read again, `reread`
//! (see [`super::reread`]). Its records carry their offset
//! (`"source":{"kafka":{...}}`), so the store itself says where reading resumes (see
//! docs/scale-out.md). Nothing here talks to Kafka: the consumer hands records in, in
//! offset order.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{
    Dispatcher, Event, FolderCheck, KafkaOrigin, Received, TargetError, Timestamp,
};
use auditrail_integrity::{
    CheckpointPolicy, HighWaterMarks, IntegrityError, Signer, StoreIntegrity,
};
use auditrail_store::{
    ReadProgress, RetentionClock, StoreConfig, StoreError, StoreHandle, StoreTarget,
};
use tokio::runtime::Handle;

use super::handed::Handed;
use super::owner::{Owner, OwnerError};
use super::record_sig::{self, RecordKeys, SigHeaders, Unverified};
use super::refused::{Refused, RefusedError, Verdict};
use super::reread::{self, Marker, RereadError};
use crate::dedup::{Dedup, DedupConfig};
use crate::recent::{self, Entry, RECENT_CAPACITY};
use crate::stats::TopicTally;

/// How far a re-read's position ([`Marker::read_to`]) may run ahead of the one written
/// in the marker before it is written again (and at close): a crash reads at most this
/// many records again, which the de-duplication window (a million events) still knows,
/// without a marker write (three fsyncs) for every batch of a long re-read.
const READ_TO_SAVE_EVERY: i64 = 10_000;

/// A record as read from the partition.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    /// Its offset.
    pub offset: i64,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value (the event's JSON); `None` too when the value was larger than
    /// `max_record_bytes` (not copied: see `too_large`).
    pub payload: Option<Vec<u8>>,
    /// The value's size, when it was larger than the source's `max_record_bytes`.
    pub too_large: Option<usize>,
    /// Its signature headers.
    pub sig: SigHeaders,
}

/// What every partition store of one source shares.
#[derive(Debug, Clone)]
pub(crate) struct StoreEnv {
    /// The source's name (log lines, the stores' target names).
    pub source: String,
    /// The config each partition store is opened with, at its own path: a store's
    /// defaults and the source's `retention` / `retention_max_bytes`.
    pub store_config: StoreConfig,
    /// The places for open partition stores (the open-file budget's share): an open
    /// takes one or waits, [`PartitionError::NoSlot`].
    pub slots: super::slots::PartitionSlots,
    /// Where a partition store is listed while open: `/v1/checkpoints` shows it, and
    /// the server's retention loop prunes it when it has a retention (see
    /// [`super::retained`]).
    pub partition_stores: Arc<super::PartitionStores>,
    /// `<store_root>` (absolute).
    pub store_root: PathBuf,
    /// The server's signing key (the same key on every server of the group).
    pub signer: Arc<Signer>,
    /// When checkpoints are written.
    pub policy: CheckpointPolicy,
    /// Who this server is, in the owner files.
    pub member: String,
    /// The dead-letter file of invalid records.
    pub dead_letters: PathBuf,
    /// The runtime the checkpoint tasks run on.
    pub runtime: Handle,
    /// The server's dispatcher: its `[[destinations]]` whose filters take an event
    /// get it too, acknowledged, before the partition store does.
    pub dispatcher: Dispatcher,
    /// The destinations behind the dispatcher's routes (`None`: none besides), which
    /// tell whether one that takes an event keeps it (see
    /// [`crate::destinations::Destinations::past_retention`]).
    pub destinations: Option<Arc<crate::destinations::Destinations>>,
    /// How long the destinations may take to acknowledge a batch.
    pub ack_timeout: Duration,
    /// How far ahead of the server's time an event may be dated
    /// (`max_timestamp_ahead_s`, as at the HTTP ingest; `None`: no bound).
    pub max_timestamp_ahead: Option<Duration>,
    /// The timeline of the server's own stores (see [`crate::ahead::bound_now`]).
    pub timeline: Option<RetentionClock>,
    /// The server's live view and counters: what a partition store stores is shown
    /// there as what the HTTP ingest stores.
    pub shown: crate::shown::LiveView,
    /// The server's `[[witnesses]]`: every published checkpoint line of a partition
    /// store is copied to them, as the server's own stores' lines are
    /// (docs/tamper-evidence.md, "Witnesses").
    pub witnesses: Option<Arc<crate::witness::Witnesses>>,
    /// The source's `signing_keys` and `accept_unsigned`: which records are vouched
    /// for (see [`super::record_sig`]).
    pub record_keys: Arc<RecordKeys>,
    /// The largest record value taken (`max_record_bytes`).
    pub max_record_bytes: usize,
    /// The data folder's check when `store_root` is inside the data folder (`None`:
    /// elsewhere, a folder of its own every server of the group mounts). Asked before a
    /// partition store is opened (which makes its folders) and before each batch
    /// (which writes its partition folder's files): a data folder moved away is not
    /// made again at its path (see [`auditrail_core::folder_check`]), and the
    /// partition waits, nothing of it committed, until the folder is back.
    pub store_root_check: Option<Arc<dyn FolderCheck>>,
    /// The data folder's check, asked before each append to `dead_letters` (which
    /// makes its folder), as the server's dispatcher asks it for its own dead letters.
    pub dead_letter_check: Option<Arc<dyn FolderCheck>>,
}

/// Asks `check` (the data folder's, see [`StoreEnv::store_root_check`]) for the
/// partition store at `path`.
fn folder_in_place(check: Option<&dyn FolderCheck>, path: &Path) -> Result<(), PartitionError> {
    match check {
        Some(c) => c.check().map_err(|source| PartitionError::FolderGone {
            path: path.to_owned(),
            source,
        }),
        None => Ok(()),
    }
}

/// Why a partition store cannot be opened or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PartitionError {
    /// Another process holds the store's lock (its previous owner is still closing it).
    #[error("partition store {path} is locked by another process")]
    Locked {
        /// The store.
        path: PathBuf,
    },
    /// The store cannot be opened or read.
    #[error("partition store {}", auditrail_core::path_and_error(path, source))]
    Store {
        /// The store.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The store's tamper evidence refuses it (see `auditrail verify`).
    #[error("partition store {}", auditrail_core::path_and_error(path, source))]
    Integrity {
        /// The store.
        path: PathBuf,
        /// Why.
        #[source]
        source: IntegrityError,
    },
    /// Every open partition store's place of the open-file budget is taken.
    #[error("partition store {path} {source}")]
    NoSlot {
        /// The store.
        path: PathBuf,
        /// The bound.
        #[source]
        source: super::slots::NoSlot,
    },
    /// The data folder holding the store root was moved away (or removed, or another
    /// folder put at its path) while the server runs: the store is not opened, nor the
    /// batch written (either would make the folder again at its path, the server's
    /// state split across the two); the partition waits, paused, no offset of it
    /// committed, and is taken again once the folder is back.
    #[error(
        "partition store {}: {source}; move the data folder back to its path (the partition is \
         read again from what its store holds then; nothing of it is committed meanwhile)",
        path.display()
    )]
    FolderGone {
        /// The store.
        path: PathBuf,
        /// The data folder, and what is at its path.
        #[source]
        source: auditrail_core::FolderGone,
    },
    /// The owner file cannot be read or written.
    #[error(transparent)]
    Owner(#[from] OwnerError),
    /// The re-read marker cannot be read or written (a batch that needs it written is
    /// not stored, and read again).
    #[error(transparent)]
    Reread(#[from] RereadError),
    /// The records refused as dated too far ahead or past the store's retention cannot
    /// be read or written down (a batch with such a record is not dead-lettered nor
    /// passed, and read again).
    #[error(transparent)]
    Refused(#[from] RefusedError),
    /// Another server took the store over: this one must not write it any more.
    #[error("partition store {path} was taken over ({by}): batch refused, store closed")]
    Fenced {
        /// The store.
        path: PathBuf,
        /// Who took it.
        by: String,
    },
    /// The batch could not be written, or only partly (events the store refused for
    /// now, e.g. a folder it may not write: the rest is written and remembered); nothing
    /// of it is acknowledged, it is read again. (Events the store refuses for good are
    /// no error: they are dead-lettered and the batch passes, see
    /// [`PartitionStore::write`].)
    #[error("partition store {path}: writing a batch: {source}")]
    Write {
        /// The store.
        path: PathBuf,
        /// Why.
        #[source]
        source: TargetError,
    },
    /// The server's destinations did not all take the batch (nothing of it counts as
    /// stored; retried).
    #[error("the destinations did not take the batch: {0}")]
    Destinations(#[source] super::handed::HandError),
    /// Invalid records, or events the store refused for good, could not be
    /// dead-lettered (so their offsets are not passed).
    #[error("dead-letter file {}", auditrail_core::path_and_error(path, source))]
    DeadLetter {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl PartitionError {
    /// The open-file budget's bound, when the open waits for a place in it.
    pub(crate) fn no_slot(&self) -> Option<super::slots::NoSlot> {
        match self {
            PartitionError::NoSlot { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// Whether the open ended because a stop was asked (the source stops): no
    /// failure, nothing to retry.
    pub(crate) fn is_stopped(&self) -> bool {
        matches!(self, PartitionError::Store { source, .. } if source.is_stopped())
    }
}

/// What one batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// Events newly stored.
    pub stored: usize,
    /// Events the store had already.
    pub duplicates: usize,
    /// Records that are not events, or events dated further ahead than
    /// `max_timestamp_ahead_s` (dead-lettered).
    pub invalid: usize,
    /// The offset of the first of them (the batch's log line names it, so that an
    /// operator finds the record without searching the dead-letter file).
    pub first_invalid: Option<i64>,
    /// Events the store refused for good (dead-lettered).
    pub refused: usize,
    /// Events dated past the store's retention, which no destination of the server
    /// takes: the store's next pass would delete them (dead-lettered).
    pub past_retention: usize,
    /// The offset of the first of them (the batch's log line names it).
    pub first_past_retention: Option<i64>,
    /// Records without a key, or whose key is not their node id.
    pub key_mismatch: usize,
    /// Records no trusted key vouches for (unsigned, a bad signature, an unknown key,
    /// a key that may not write the event): dead-lettered.
    pub unverified: usize,
    /// The offset of the first of them and why (the batch's log line says both).
    pub first_unverified: Option<(i64, String)>,
    /// The offset to commit (the next one to read).
    pub next_offset: i64,
    /// Set when a record below the store's resume offset held an event the store does
    /// not have: the partition is not the one the store was filled from (the topic was
    /// deleted and created again, or its log truncated or reset). Its first such
    /// offset. Those events were stored, and the re-read marker written before them;
    /// the caller must read the partition again from its beginning (the store's offsets
    /// no longer say what it has, de-duplication does) and then call
    /// [`PartitionStore::reread_begins`].
    pub not_the_stored_partition: Option<i64>,
    /// Set while a re-read is due and the consumer has not been sought to the
    /// partition's beginning yet (the batch that found the new partition, or a later
    /// one when that batch failed and was read again, or the seek failed): the caller
    /// seeks there and calls [`PartitionStore::reread_begins`].
    pub read_from_beginning: bool,
}

/// An open partition store.
pub(crate) struct PartitionStore {
    /// Listed while open (`/v1/checkpoints`, and the server's retention for a source
    /// with a retention). First, so that it is dropped first: unlisted, and a prune pass under way
    /// finished, before the store closes.
    listed: Option<super::retained::Listed>,
    topic: String,
    partition: i32,
    /// The partition's folder.
    dir: PathBuf,
    path: PathBuf,
    /// `None` once closed.
    store: Option<StoreTarget>,
    integrity: Option<Arc<StoreIntegrity>>,
    dedup: Dedup,
    owner: Owner,
    next_offset: Option<i64>,
    /// The store's timeline (its last checkpoint before this open, plus the time since):
    /// the bound on timestamps ahead counts from it when the wall clock is behind.
    timeline: RetentionClock,
    /// Set while the partition turned out not to be the one the store was filled from
    /// and has not yet been read again from its beginning past the marker's `until`:
    /// no record is skipped by its offset meanwhile, de-duplication decides. Kept on
    /// disk too (the marker), so that a restart or the next owner goes on with it.
    /// Once the read from the beginning has begun, `next_offset` is its position (the
    /// new partition's own), not the store's highest offset.
    reread: Option<Reread>,
    /// The records refused as dated too far ahead: refused again when read again,
    /// whatever the clock says then (see [`super::refused`]).
    refused_ahead: Refused,
    /// The source's retention by age, on this store's timeline (`None`: none): an
    /// event its next pass would delete at once is not stored.
    retention: Option<crate::retention::Retention>,
    /// The records refused as dated past that retention: refused again when read
    /// again, whatever the clock or the retention say then.
    refused_past: Refused,
    /// The offset after the last batch whose stored events were committed to the
    /// de-duplication in this open, even if the batch failed after that (part of it
    /// refused for now, a dead letter or a marker not written): its records read again
    /// are expected, so the live view and `/v1/stats` count them neither as stored nor
    /// as duplicates (they were shown when the store took them).
    settled_to: i64,
    /// The events handed to the server's destinations whose answer is still awaited:
    /// an attempt after a failed one waits for them rather than hand them again.
    handed: Handed,
    /// Its place of the open-file budget: last, so given back once the store's files
    /// are closed.
    _slot: super::slots::Slot,
}

/// Why a record is not stored (the write's loop).
enum Refusal {
    /// Not an event, or dated too far ahead: the reason.
    Invalid(String),
    /// Dated past the store's retention now.
    PastRetention(crate::past_retention::PastRetention),
    /// Refused as dated past the retention when first read: its timestamp.
    PastRetentionBefore(Timestamp),
    /// No trusted key vouches for it.
    Unverified(Unverified),
}

/// A re-read under way.
#[derive(Debug, Clone, Copy)]
struct Reread {
    /// As in memory: `read_to` is the position now.
    marker: Marker,
    /// Whether the records handed in now come from the partition's beginning, in
    /// order (the consumer was sought there, or assigned there at open), or from
    /// `read_to` on: only those count towards `until`.
    begun: bool,
    /// The `read_to` the marker on disk has.
    saved: Option<i64>,
}

impl Reread {
    /// Whether the partition is to be read from its beginning: the re-read has no
    /// position yet.
    fn reads_from_beginning(&self) -> bool {
        self.marker.read_to.is_none()
    }
}

impl std::fmt::Debug for PartitionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionStore")
            .field("path", &self.path)
            .field("next_offset", &self.next_offset)
            .finish_non_exhaustive()
    }
}

/// `<store_root>/<topic>/<partition>`: the partition's folder.
pub(crate) fn partition_dir(root: &Path, topic: &str, partition: i32) -> PathBuf {
    root.join(topic).join(partition.to_string())
}

/// The store's folder in a partition's folder (its name is how the operator commands
/// tell a partition store: `auditrail_integrity::marks_folder`).
pub(crate) fn store_path(root: &Path, topic: &str, partition: i32) -> PathBuf {
    partition_dir(root, topic, partition)
        .join(auditrail_integrity::marks_folder::PARTITION_STORE_FOLDER)
}

impl PartitionStore {
    /// Opens (creating) the store of `topic`/`partition`: the store's lock, its
    /// recovery, ownership (epoch + 1), de-duplication and the last stored offset from
    /// its records, then its tamper evidence (checked against the partition's high-water
    /// mark).
    #[cfg(test)]
    pub(crate) fn open(
        env: &StoreEnv,
        topic: &str,
        partition: i32,
    ) -> Result<PartitionStore, PartitionError> {
        PartitionStore::open_watched(env, topic, partition, &ReadProgress::new(), None)
    }

    /// [`open`](Self::open), counting what it reads (the walk, the recovery, the read
    /// of every record) in `progress` and ending between two files or folders once a
    /// stop is asked there: [`PartitionError::is_stopped`]. Such an open leaves the
    /// store as a crash would at worst (each recovery repair is complete by itself;
    /// the owner epoch may have been raised, which the next owner raises again) and
    /// attaches nothing (no checkpoint is written). `which`: this store's place among
    /// the stores being opened together (`k of N`), for the log.
    pub(crate) fn open_watched(
        env: &StoreEnv,
        topic: &str,
        partition: i32,
        progress: &ReadProgress,
        which: Option<(usize, usize)>,
    ) -> Result<PartitionStore, PartitionError> {
        let before = progress.counts();
        let dir = partition_dir(&env.store_root, topic, partition);
        let path = store_path(&env.store_root, topic, partition);
        let store_err = |source| PartitionError::Store {
            path: path.clone(),
            source,
        };
        // Opening makes the store's folders: not under a data folder moved away.
        folder_in_place(env.store_root_check.as_deref(), &path)?;
        // Its place of the budget first: nothing is opened without one.
        let slot = env.slots.take().map_err(|source| PartitionError::NoSlot {
            path: path.clone(),
            source,
        })?;
        let target_name = format!("{}:{topic}/{partition}", env.source);
        let config = StoreConfig {
            path: path.clone().into(),
            ..env.store_config.clone()
        };
        let store = match StoreTarget::open_watched(&path, &config, &target_name, progress) {
            Ok(s) => s,
            Err(StoreError::Locked { .. }) => return Err(PartitionError::Locked { path }),
            Err(e) => return Err(store_err(e)),
        };
        let handle = store.handle();
        // Before the checkpoint task writes this open's first line (with a clock that
        // may be behind).
        let timeline = RetentionClock::read(&path, env.policy.catch_up).map_err(store_err)?;
        // The last point before this open writes (the owner epoch): a stop asked
        // during the recovery's read ends it here.
        if progress.stop_asked() {
            return Err(store_err(StoreError::Stopped { root: path.clone() }));
        }
        let owner = Owner::take(&dir, &env.member)?;
        let refused_ahead = Refused::load(&dir, Verdict::Ahead)?;
        let refused_past = Refused::load(&dir, Verdict::PastRetention)?;
        // A re-read cut short (a stop, a crash, a rebalance) goes on from the
        // beginning: the store's highest offset may be one of the new partition's, above
        // records of it that were never read.
        // A damaged marker (a disk fault, a hand edit) says a re-read was under way
        // but not how far it must go: it is replaced, below, by the safe bound (the
        // store's next offset: every record it could claim), not left to wedge the
        // partition, and never dropped (resuming at the store's offset could skip
        // records).
        let (loaded, damaged) = match reread::load(&dir) {
            Ok(marker) => (marker, None),
            Err(e @ RereadError::Damaged { .. }) => (None, Some(e)),
            Err(e) => return Err(e.into()),
        };
        let mut reread = loaded.map(|marker| Reread {
            marker,
            begun: true,
            saved: marker.read_to,
        });
        let dedup = Dedup::new(DedupConfig::default());
        let mut last: Option<i64> = None;
        dedup
            .load_store_with(&handle, progress, |record| {
                if let Some(k) = &record.kafka {
                    if k.topic == topic && k.partition == partition {
                        last = Some(last.map_or(k.offset, |l| l.max(k.offset)));
                    }
                }
            })
            .map_err(store_err)?;
        // The mark travels with the partition (every owner checks and raises the same
        // one); its key is the store's folder relative to the partition's folder, so
        // servers that mount the shared folder at other paths agree on it.
        let marks = Arc::new(HighWaterMarks::in_data_dir(&dir));
        let integrity = attach(env, &handle, marks)
            .map_err(|source| PartitionError::Integrity {
                path: path.clone(),
                source,
            })?
            .map(Arc::new);
        // Pruned by the server's retention from now until its close, on its own
        // timeline (read above, before this open's first checkpoint line).
        let retention = integrity.as_ref().and_then(|_| {
            crate::retention::Retention::without_archive(&config, Some(timeline.clone()))
        });
        // Listed until its close: shown by `/v1/checkpoints`, pruned when it has a
        // retention.
        let listed = integrity.as_ref().map(|integrity| {
            env.partition_stores.list(super::retained::ListedStore::new(
                super::PartitionId {
                    source: env.source.clone(),
                    topic: topic.to_owned(),
                    partition,
                },
                path.clone(),
                handle.clone(),
                integrity.clone(),
                retention.clone(),
                dedup.clone(),
            ))
        });
        let mut next_offset = last.map(|l| l.saturating_add(1));
        if let Some(e) = damaged {
            let marker = Marker {
                until: next_offset.unwrap_or(0),
                first_offset: 0,
                read_to: None,
            };
            tracing::error!(source = %env.source, store = %path.display(), error = %e, until = marker.until,
                "the re-read marker is damaged: the partition is read again from its beginning up to the store's highest offset (the safe bound), and the marker written anew");
            reread::save(&dir, &marker)?;
            reread = Some(Reread {
                marker,
                begun: true,
                saved: None,
            });
        }
        match reread.and_then(|r| Some((r, r.marker.read_to?))) {
            Some((r, read_to)) => {
                // The store's highest offset may be the old partition's, above the new
                // one's end: the re-read's position is where this partition is.
                next_offset = Some(read_to);
                tracing::warn!(source = %env.source, store = %path.display(), until = r.marker.until,
                    first_offset = r.marker.first_offset, read_to,
                    "the partition is not the one this store was filled from; it was read again from its beginning up to offset {read_to}: reading resumes there (not at the store's highest offset, an offset of the old partition)");
            }
            None => {
                if let Some(r) = &reread {
                    tracing::warn!(source = %env.source, store = %path.display(), until = r.marker.until,
                        first_offset = r.marker.first_offset,
                        "the partition was being read again from its beginning (it is not the one this store was filled from) and that read did not finish: reading it again from its beginning");
                }
            }
        }
        let read = progress.counts();
        // Where this open is among those of one assignment, and what it read (a store
        // of millions of records takes seconds): the log shows an open that progresses.
        let which = which.map(|(k, n)| format!("{k} of {n}"));
        tracing::info!(source = %env.source, store = %path.display(), epoch = owner.epoch(), resume = ?next_offset, rereading = reread.is_some(),
            opened = which.as_deref().unwrap_or("1 of 1"),
            segment_files = read.files - before.files, bytes = read.bytes - before.bytes, records = read.records - before.records,
            "partition store opened");
        Ok(PartitionStore {
            listed,
            topic: topic.to_owned(),
            partition,
            dir,
            path,
            store: Some(store),
            integrity,
            dedup,
            owner,
            next_offset,
            timeline,
            reread,
            refused_ahead,
            retention,
            refused_past,
            settled_to: 0,
            handed: Handed::default(),
            _slot: slot,
        })
    }

    /// The store's de-duplication state (shared).
    pub(crate) fn dedup(&self) -> &Dedup {
        &self.dedup
    }

    /// The offset after the last record the store holds (`None`: it holds none of
    /// this partition's records; reading starts at the group's committed offset).
    #[cfg(test)]
    pub(crate) fn next_offset(&self) -> Option<i64> {
        self.next_offset
    }

    /// Where reading resumes: the store's last offset, read again on purpose. Its
    /// record must be the event the store holds there; if it is not (or any record
    /// below the offset after it holds an event the store lacks), the partition is
    /// not the one the store was filled from and [`Written::not_the_stored_partition`]
    /// says so. (Offsets alone cannot tell a recreated topic that grew past the old
    /// offsets from the old one.)
    /// While a re-read is under way (see [`super::reread`]): 0, the partition's
    /// beginning (an offset below the log's start resets to its earliest record:
    /// `auto.offset.reset = earliest`).
    /// Once that read has a position ([`Marker::read_to`]), it resumes there like any
    /// store at its offset.
    pub(crate) fn resume_offset(&self) -> Option<i64> {
        if self.rereading() {
            return Some(0);
        }
        self.next_offset.map(|n| n.saturating_sub(1).max(0))
    }

    /// Whether the partition is being read again from its beginning (its first record
    /// may be past offset 0: the log's start, no records missed).
    pub(crate) fn rereading(&self) -> bool {
        self.reread.is_some_and(|r| r.reads_from_beginning())
    }

    /// The partition's topic was deleted and created again under the running consumer
    /// (librdkafka saw its topic id change): the consumer's position is the old
    /// topic's, and the new topic's records below it would never be read (nor told by
    /// the record at the store's offset, which only a reopen reads again). So the
    /// partition is read again from its beginning, de-duplication deciding, exactly as
    /// when a record shows it ([`Written::not_the_stored_partition`]): the marker is
    /// written first, so a stop or the next owner goes on with the re-read. The caller
    /// seeks the consumer to the beginning and then calls [`Self::reread_begins`].
    pub(crate) fn topic_recreated(&mut self) -> Result<(), PartitionError> {
        let held = self.next_offset.unwrap_or(0);
        let until = self.reread.map_or(held, |r| r.marker.until.max(held));
        self.reread = Some(start_reread(&self.dir, until, 0)?);
        Ok(())
    }

    /// The consumer now reads the partition from its beginning, after
    /// [`Written::not_the_stored_partition`]: the records handed in from here on count
    /// towards the end of the re-read. (Until this is called, for instance when the
    /// seek failed, the re-read is left to the next open.)
    pub(crate) fn reread_begins(&mut self) {
        if let Some(r) = &mut self.reread {
            r.begun = true;
        }
    }

    /// Checks, de-duplicates and stores `batch` (in offset order), durably; invalid
    /// records go to the dead-letter file first. Events the store refuses for good
    /// (`TargetError::Rejected`: a partition folder the file system will never make)
    /// go there after the write, with the store's reason, and the batch passes: one
    /// such event never holds up its partition. On an error nothing of the batch
    /// counts as stored and the caller retries it (a write is all or nothing: the
    /// store's undo rules; events the store refused only for now, and those refused
    /// for good beside them, are read again with it).
    pub(crate) fn write(
        &mut self,
        env: &StoreEnv,
        batch: &[Incoming],
    ) -> Result<Written, PartitionError> {
        // Before the owner file is read: with the data folder moved away, it is not at
        // its path, and this store would be taken for fenced (closed until the group
        // assigns the partition again) rather than wait for the folder.
        folder_in_place(env.store_root_check.as_deref(), &self.path)?;
        if let Some(by) = self.owner.taken_over()? {
            return Err(PartitionError::Fenced {
                path: self.path.clone(),
                by,
            });
        }
        let Some(store) = &self.store else {
            return Err(PartitionError::Fenced {
                path: self.path.clone(),
                by: "closed".into(),
            });
        };
        let mut written = Written {
            next_offset: self.next_offset.unwrap_or(0),
            ..Written::default()
        };
        let now = Timestamp::now();
        // The HTTP ingest's rule: from the later of the wall clock and the stores'
        // timelines (the server's, and this partition store's own).
        let ahead_from = crate::ahead::bound_now(
            crate::ahead::bound_now(now, env.timeline.as_ref()),
            Some(&self.timeline),
        );
        let mut events = Vec::with_capacity(batch.len());
        // The record of each event (its offset and text, for a dead letter).
        let mut sources = Vec::with_capacity(batch.len());
        let mut dead = Vec::new();
        // Per event: its offset is below the store's resume offset, so the store should
        // have it (read again after a seek, or the last offset read again on purpose).
        let mut seen_before = Vec::with_capacity(batch.len());
        // Records refused as dated too far ahead now (offset, value).
        let mut refused_now: Vec<(i64, &[u8])> = Vec::new();
        // Records refused as dated past the store's retention now (offset, value).
        let mut past_now: Vec<(i64, &[u8])> = Vec::new();
        for record in batch {
            written.next_offset = written.next_offset.max(record.offset.saturating_add(1));
            // While read from the beginning, no offset says what the store has; once
            // the re-read has a position, that position does.
            let below = !self.rereading() && self.next_offset.is_some_and(|n| record.offset < n);
            // An event dated too far ahead is refused as a record that is not one: dead-
            // lettered with the reason, that record alone; the partition goes on. The
            // bound moves with the clock, so the verdict is written down and the same
            // record is refused again when read again: otherwise, passing then, it would
            // be stored after its dead letter, or, below the resume offset, taken for an
            // event of another partition.
            let payload = record.payload.as_deref().unwrap_or_default();
            let mut ahead_now = false;
            let decoded = decode(record).and_then(|event| {
                if self.refused_ahead.contains(record.offset, payload) {
                    return Err(format!(
                        "timestamp {} was more than max_timestamp_ahead_s ahead of the server's time when this record was first read (the verdict stands)",
                        event.timestamp
                    ));
                }
                crate::ahead::check(event.timestamp, env.max_timestamp_ahead, ahead_from, now)
                    .map(|()| event)
                    .map_err(|e| {
                        ahead_now = true;
                        e.to_string()
                    })
            });
            // An event the store's next retention pass would delete at once (its time
            // partition already ended before the cut-off: a node whose clock is behind,
            // a backlog older than the retention) is not stored to be deleted without a
            // word: as the HTTP ingest refuses it (400 `timestamp_past_retention`), it
            // is dead-lettered, with its offset and the reason, unless one of the
            // server's own destinations takes it (which then keeps it, as over HTTP).
            // Written down as the verdict on events ahead is, for the same reason: a
            // longer retention would pass it when read again.
            let decoded = match decoded {
                Ok(event) if self.refused_past.contains(record.offset, payload) => {
                    Err(Refusal::PastRetentionBefore(event.timestamp))
                }
                Ok(event) => match self.past_retention(env, &event) {
                    Some(past) => Err(Refusal::PastRetention(past)),
                    None => Ok(event),
                },
                Err(why) => Err(Refusal::Invalid(why)),
            };
            // A record no trusted key vouches for is refused whatever else is said of
            // it (its other verdicts are not written down: nobody vouched for them),
            // and the key that signs an event must be one that may write it, as an
            // HTTP key must.
            let decoded = match env.record_keys.signer(&self.topic, record) {
                // Refused as too large whoever signed it: its value was not kept.
                _ if record.too_large.is_some() => decoded.map(|event| (event, None)),
                Err(why) => Err(Refusal::Unverified(why)),
                Ok(key) => decoded.and_then(|event| match key {
                    Some(k) => record_sig::may_write(k, &event)
                        .map(|()| (event, Some(k.id.clone())))
                        .map_err(Refusal::Unverified),
                    None => Ok((event, None)),
                }),
            };
            match decoded {
                // Refused, read before: dead-lettered when first read.
                Err(_) if below => continue,
                Ok((mut event, key_id)) => {
                    // A record without a key counts too: librdkafka's partitioner
                    // puts each keyless send in a partition of its own choosing, so a
                    // retry of it can land in another partition as surely as a record
                    // keyed by something else (docs/scale-out.md, the record key).
                    if record.key.as_deref() != Some(event.node.as_str().as_bytes()) {
                        written.key_mismatch += 1;
                    }
                    event.received = Some(Arc::new(Received {
                        orig_address: None,
                        // The key that signed the record, as an HTTP key's id.
                        key_id,
                        server_timestamp: now,
                        kafka: Some(KafkaOrigin {
                            topic: self.topic.clone(),
                            partition: self.partition,
                            offset: record.offset,
                        }),
                    }));
                    events.push(event);
                    sources.push(record);
                    seen_before.push(below);
                }
                Err(Refusal::Invalid(why)) => {
                    if ahead_now {
                        refused_now.push((record.offset, payload));
                    }
                    written.invalid += 1;
                    written.first_invalid.get_or_insert(record.offset);
                    dead.extend(dead_letter_line(&self.topic, self.partition, record, &why));
                }
                Err(Refusal::PastRetention(past)) => {
                    past_now.push((record.offset, payload));
                    written.past_retention += 1;
                    written.first_past_retention.get_or_insert(record.offset);
                    let why = past.describe_for_partition_store();
                    dead.extend(dead_letter_line(&self.topic, self.partition, record, &why));
                }
                Err(Refusal::Unverified(why)) => {
                    let why = why.to_string();
                    written.unverified += 1;
                    dead.extend(dead_letter_line(&self.topic, self.partition, record, &why));
                    written.first_unverified.get_or_insert((record.offset, why));
                }
                Err(Refusal::PastRetentionBefore(timestamp)) => {
                    let why = format!(
                        "timestamp {timestamp} was past the retention of the partition store when this record was first read (the verdict stands)"
                    );
                    written.past_retention += 1;
                    written.first_past_retention.get_or_insert(record.offset);
                    dead.extend(dead_letter_line(&self.topic, self.partition, record, &why));
                }
            }
        }
        // Before their dead letters and before any offset passes them: a crash in
        // between reads them again, refused again (dead-lettered once more at worst).
        self.refused_ahead.remember(&refused_now)?;
        self.refused_past.remember(&past_now)?;
        self.dead_letter(env, &dead)?;
        // The live view and `/v1/stats` (its per-node counts too) also expect the records of a batch that failed
        // after its events were stored (`settled_to`: they were shown then), and, while
        // the partition is read again from its beginning, every record the store has:
        // none is a producer's duplicate. (The source's own duplicate counter keeps
        // counting those, as records that held an event the store had.)
        let expected: Vec<bool> = seen_before
            .iter()
            .zip(&sources)
            .map(|(below, r)| *below || r.offset < self.settled_to || self.rereading())
            .collect();
        // One writer per partition store: nothing is ever in flight elsewhere.
        let Some(mut admission) = self.dedup.try_admit_expecting(&events, &expected) else {
            unreachable!("a partition store has one writer");
        };
        // Never skipped as stored when the store no longer holds the record (its file
        // or folder removed, moved, replaced or cut by hand since): forgotten by
        // de-duplication and admitted again, as new, so that it is stored again (see
        // `admit_held` of the HTTP ingest, which does the same).
        let stored = admission.stored_duplicates();
        if !stored.is_empty() {
            let keys: Vec<_> = stored.iter().map(|(_, k)| *k).collect();
            let lost: Vec<_> = store
                .handle()
                .records_gone(&keys)
                .into_iter()
                .zip(stored)
                .filter_map(|(gone, (i, key))| gone.map(|g| (i, key, g)))
                .collect();
            if let Some((first, _, why)) = lost.first() {
                // Retention's removals (recorded in the checkpoint log) are no loss.
                let by_hand: Vec<_> = lost
                    .iter()
                    .filter(|(_, _, g)| !g.deleted_by_retention)
                    .collect();
                if let Some((first, _, why)) = by_hand.first() {
                    tracing::error!(store = %self.path.display(), events = by_hand.len(), first = %events[*first].id, reason = %why,
                        "records read again were stored before, but their records are gone from the partition store (a file or folder removed, moved, replaced or cut by hand): they are stored again, not skipped as stored");
                } else {
                    tracing::info!(store = %self.path.display(), events = lost.len(), first = %events[*first].id, reason = %why,
                        "records read again were stored before, and the partition store's retention deleted their records since (recorded in its checkpoint log): they are stored again, not skipped as stored");
                }
                drop(admission);
                let keys: Vec<_> = lost.iter().map(|(_, key, _)| *key).collect();
                self.dedup.forget(&keys);
                let Some(again) = self.dedup.try_admit_expecting(&events, &expected) else {
                    unreachable!("a partition store has one writer");
                };
                admission = again;
            }
        }
        let mut is_new = vec![false; events.len()];
        for &i in admission.new() {
            is_new[i] = true;
        }
        // Events the store has at offsets it said it has are the expected re-reads, no
        // duplicates; an event it lacks there is the sign of another partition.
        let rereads = seen_before
            .iter()
            .zip(&is_new)
            .filter(|(below, new)| **below && !**new)
            .count();
        written.duplicates = admission.duplicates().saturating_sub(rereads);
        written.not_the_stored_partition = seen_before
            .iter()
            .zip(&is_new)
            .zip(&sources)
            .find(|((below, new), _)| **below && **new)
            .map(|(_, r)| r.offset);
        if let Some(first) = written.not_the_stored_partition {
            // On disk before the first event of the new partition is stored: once it is,
            // the store's highest offset may be one of the new partition's, and only the
            // marker stops the next open from resuming past its earlier records.
            // Found again past a re-read's position (the topic created anew once more):
            // the store's offsets still reach the earlier bound.
            let until = self.reread.map_or(written.next_offset, |r| {
                r.marker.until.max(written.next_offset)
            });
            self.reread = Some(start_reread(&self.dir, until, first)?);
        }
        // What the live view and `/v1/stats` count: the events stored now and the
        // duplicates, not the expected re-reads.
        let counted: Vec<bool> = expected
            .iter()
            .zip(&is_new)
            .map(|(again, new)| !again || *new)
            .collect();
        let tally = TopicTally::of(
            events
                .iter()
                .zip(&counted)
                .filter(|(_, c)| **c)
                .map(|(e, _)| e),
            &is_new
                .iter()
                .zip(&counted)
                .filter(|(_, c)| **c)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>(),
        );
        let (new, new_sources): (Vec<Arc<Event>>, Vec<&Incoming>) = events
            .into_iter()
            .zip(sources)
            .zip(is_new)
            .filter(|(_, n)| *n)
            .map(|((e, r), _)| (Arc::new(e), r))
            .unzip();
        // The destinations first: once the store has an offset, the next owner resumes
        // after it, so the store must be the last to take the batch (the destinations
        // may then get an event twice after a crash: at least once for them, exactly
        // once for the partition stores).
        if !new.is_empty() && env.dispatcher.routes().len() > 0 {
            // A storing server without destinations of its own (the usual case) skips
            // this: no copy of each event just to find that nothing takes it.
            self.handed
                .hand(env, &new)
                .map_err(PartitionError::Destinations)?;
        }
        let mut refused = Vec::new();
        // Once events are committed below, a failure after that leaves them stored: a
        // read of the same records again expects them.
        let settled_to = written.next_offset;
        if !new.is_empty() {
            match store.send_blocking(&new) {
                Ok(()) => admission.commit(),
                Err(TargetError::Rejected { rejected }) => {
                    // Refused for good, and every other event written: those are
                    // remembered (not the refused ones: the same event at another
                    // offset, once the folder can be made, is stored).
                    let out: std::collections::HashSet<usize> =
                        rejected.iter().map(|(i, _)| *i).collect();
                    admission.commit_stored(
                        |k| !out.contains(&k),
                        Vec::new(),
                        |_| Vec::new(),
                        Vec::new(),
                    );
                    refused = rejected;
                }
                Err(source) => {
                    // Events refused for now (their partition folder cannot be written
                    // yet) leave the rest of the batch written: those are remembered, so
                    // that the batch read again from the same offset stores only the
                    // refused ones.
                    match &source {
                        TargetError::PartlyTaken {
                            retry_later,
                            rejected,
                        } => {
                            let out: std::collections::HashSet<usize> = retry_later
                                .iter()
                                .chain(rejected)
                                .map(|(i, _)| *i)
                                .collect();
                            admission.commit_stored(
                                |k| !out.contains(&k),
                                Vec::new(),
                                |_| Vec::new(),
                                Vec::new(),
                            );
                            // The events the store took are shown now; the rest are
                            // shown when a later read stores them.
                            self.settled_to = self.settled_to.max(settled_to);
                            self.show(env, tally, &new, &new_sources, &out);
                        }
                        _ => admission.release(),
                    }
                    return Err(PartitionError::Write {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        } else {
            admission.commit();
        }
        self.settled_to = self.settled_to.max(settled_to);
        // Shown before anything else can fail: they are stored.
        written.refused = refused.len();
        written.stored = new.len() - written.refused;
        self.show(
            env,
            tally,
            &new,
            &new_sources,
            &refused.iter().map(|(i, _)| *i).collect(),
        );
        if !refused.is_empty() {
            let mut lines = Vec::new();
            for (i, why) in &refused {
                lines.extend(dead_letter_line(
                    &self.topic,
                    self.partition,
                    new_sources[*i],
                    why,
                ));
            }
            // Not written: the offsets stay, the batch is read again and only the
            // refused events are sent to the store again (the rest is remembered).
            self.dead_letter(env, &lines)?;
            let (first, why) = &refused[0];
            tracing::error!(source = %env.source, topic = %self.topic, partition = self.partition,
                events = refused.len(), first_offset = new_sources[*first].offset, reason = %why,
                file = %env.dead_letters.display(),
                "events the partition store refuses for good were dead-lettered; the partition goes on");
        }
        written.next_offset = self.advance_reread(env, batch, written.next_offset)?;
        if let Some(first) = written.not_the_stored_partition {
            tracing::error!(source = %env.source, topic = %self.topic, partition = self.partition,
                store = %self.path.display(), resume_offset = ?self.next_offset, first_offset = first,
                "the partition is not the one this store was filled from (topic deleted and created again, or its log truncated or reset): the record at offset {first} holds an event the store does not have; it was stored, and the partition is read again from its beginning (de-duplication keeps what the store has once)");
        }
        self.next_offset = Some(written.next_offset);
        written.read_from_beginning = self.reread.is_some_and(|r| !r.begun);
        Ok(written)
    }

    /// Whether the store's next retention pass would delete `event` at once, and so
    /// would every destination of the server that takes it: the HTTP ingest's rule
    /// (`Destinations::past_retention`). One that keeps it (a store with a longer
    /// retention or none, a forward) takes it, and the store's pass deletes only its
    /// own copy.
    fn past_retention(
        &self,
        env: &StoreEnv,
        event: &Event,
    ) -> Option<crate::past_retention::PastRetention> {
        let past = self.retention.as_ref()?.deletes_at_once(&event.timestamp)?;
        if env.dispatcher.routes().len() == 0 {
            return Some(past);
        }
        // Routed only for such an event (rare): the dispatcher's filters decide.
        let routed = env.dispatcher.route(event.clone());
        if routed.routes().is_empty() {
            return Some(past);
        }
        let all_delete = env
            .destinations
            .as_ref()
            .is_some_and(|d| d.past_retention(&routed).is_some());
        all_delete.then_some(past)
    }

    /// Shows the events of a batch in the server's live view and counters, as the HTTP
    /// ingest shows its own (`crate::shown`): `new` were handed to the store, which
    /// did not store those of `out` (indices into `new`) and stored the others.
    fn show(
        &self,
        env: &StoreEnv,
        mut tally: TopicTally,
        new: &[Arc<Event>],
        sources: &[&Incoming],
        out: &std::collections::HashSet<usize>,
    ) {
        tally.keep_stored(|k| !out.contains(&k));
        // Without followers only the last RECENT_CAPACITY are kept: copy no more.
        let keep = if env.shown.followed() {
            usize::MAX
        } else {
            RECENT_CAPACITY
        };
        let mut entries: Vec<Entry> = new
            .iter()
            .zip(sources)
            .enumerate()
            .rev()
            .filter(|(k, _)| !out.contains(k))
            .filter_map(|(_, (event, record))| {
                // Every event of a partition store has its Kafka origin (set above).
                let received = event.received.clone()?;
                let raw = record.payload.as_deref().unwrap_or_default();
                Some(recent::entry_of(raw, event, received))
            })
            .take(keep)
            .collect();
        entries.reverse();
        env.shown.show(tally, entries);
    }

    /// Moves a begun re-read on past `batch` (stored): its position is written into the
    /// marker (the first time at once, then every [`READ_TO_SAVE_EVERY`] offsets and at
    /// close), and once it has passed the marker's `until` the re-read ends: every
    /// record the store's offsets could claim was read (and stored or known), so
    /// resuming at the store's offset is right again. Returns the offset after what
    /// was read: `next_offset` (the store's), or the re-read's position.
    fn advance_reread(
        &mut self,
        env: &StoreEnv,
        batch: &[Incoming],
        next_offset: i64,
    ) -> Result<i64, PartitionError> {
        let Some(mut r) = self.reread.filter(|r| r.begun) else {
            return Ok(next_offset);
        };
        let read_to = batch
            .iter()
            .map(|rec| rec.offset.saturating_add(1))
            .max()
            .unwrap_or(0);
        // From the beginning, the batch's end is the position; from a position on, the
        // records continue it.
        let position = r.marker.read_to.map_or(read_to, |p| p.max(read_to));
        if position >= r.marker.until {
            // Failing here leaves the marker: the next open reads the partition again
            // (from its position, or its beginning), which stores nothing twice.
            reread::clear(&self.dir)?;
            self.reread = None;
            tracing::warn!(source = %env.source, topic = %self.topic, partition = self.partition,
                store = %self.path.display(), until = r.marker.until,
                "the partition was read again from its beginning past the store's earlier offsets: reading resumes at the store's offset again");
            return Ok(next_offset.max(position));
        }
        r.marker.read_to = Some(position);
        let due = r
            .saved
            .is_none_or(|s| position.saturating_sub(s) >= READ_TO_SAVE_EVERY);
        self.reread = Some(r);
        if due {
            self.save_position();
        }
        Ok(position)
    }

    /// Writes the re-read's position into the marker, after the records below it were
    /// stored. Failing leaves the marker's earlier position (or none: from the
    /// beginning), which is behind, never ahead: logged, not the batch's failure, and
    /// tried again.
    fn save_position(&mut self) {
        let Some(r) = &mut self.reread else {
            return;
        };
        if r.marker.read_to.is_none() || r.saved == r.marker.read_to {
            return;
        }
        match reread::save(&self.dir, &r.marker) {
            Ok(()) => {
                if r.saved.is_none() {
                    tracing::warn!(topic = %self.topic, partition = self.partition,
                        store = %self.path.display(), until = r.marker.until, read_to = ?r.marker.read_to,
                        "the partition is being read again from its beginning; from here on, reading resumes at the re-read's position, not at its beginning");
                }
                r.saved = r.marker.read_to;
            }
            Err(e) => {
                tracing::error!(store = %self.path.display(), "{e}; the re-read's position is written again later (until then, a restart reads again from the position written before, which stores nothing twice)");
            }
        }
    }

    /// Appends `lines` to the source's dead-letter file (fsynced); nothing to do when
    /// empty.
    fn dead_letter(&self, env: &StoreEnv, lines: &[u8]) -> Result<(), PartitionError> {
        if lines.is_empty() {
            return Ok(());
        }
        // The append makes the file's folder: not under a data folder moved away.
        auditrail_core::folder_check::ask(env.dead_letter_check.as_deref())
            .and_then(|()| auditrail_core::dead_letter::append(&env.dead_letters, lines))
            .map_err(|source| PartitionError::DeadLetter {
                path: env.dead_letters.clone(),
                source,
            })
    }

    /// Closes the store: its final checkpoint (unless `fenced`: another server may own
    /// the checkpoint log now), then the store itself (its lock is released).
    pub(crate) fn close(mut self, runtime: &Handle, fenced: bool) {
        // No prune of it from here on; one under way ends its pass first.
        drop(self.listed.take());
        // The re-read's latest position, unless another server may own the marker now.
        if !fenced && self.reread.is_some_and(|r| r.saved != r.marker.read_to) {
            if let Ok(None) = self.owner.taken_over() {
                self.save_position();
            }
        }
        if let Some(integrity) = self.integrity.take() {
            if !fenced {
                match runtime.block_on(integrity.close()) {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(store = %self.path.display(), "final checkpoint of the partition store: {e}")
                    }
                }
            }
        }
        drop(self.store.take());
        tracing::info!(store = %self.path.display(), fenced, "partition store closed");
    }
}

fn attach(
    env: &StoreEnv,
    handle: &StoreHandle,
    marks: Arc<HighWaterMarks>,
) -> Result<Option<StoreIntegrity>, IntegrityError> {
    if !handle.is_chained() {
        return Ok(None);
    }
    // The checkpoint task is spawned on the server's runtime.
    let _entered = env.runtime.enter();
    let witnesses = env.witnesses.as_deref();
    let integrity = StoreIntegrity::attach_checked(
        handle,
        env.signer.clone(),
        env.policy,
        marks,
        witnesses.map(|w| w.forwarder(handle.root())),
    )?;
    if let Some(w) = witnesses {
        // What the witnesses were not given of this store's log (lines written while
        // another server owned the partition, or this one was stopped) goes first, as
        // for the server's own stores at start.
        w.catch_up(handle.root(), integrity.store_id());
    }
    Ok(Some(integrity))
}

fn decode(record: &Incoming) -> Result<Event, String> {
    if let Some(size) = record.too_large {
        return Err(format!(
            "the record's value is {size} bytes, more than the source's max_record_bytes: not \
             read (its value is not in this line; it is in the topic at this offset)"
        ));
    }
    let Some(payload) = &record.payload else {
        return Err("the record has no value".into());
    };
    // A value is one JSON document: a byte order mark before it is skipped, as RFC 8259
    // (section 8.1) lets a parser do and as the HTTP ingest does at a body's start
    // (producers that read events from files written by Windows tools send one).
    let payload = payload.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(payload);
    Event::from_json_slice(payload).map_err(|e| e.to_string())
}

/// One JSON line of the source's dead-letter file: where the record is, why it was
/// refused, and its value (as text when it is UTF-8, else base16).
fn dead_letter_line(topic: &str, partition: i32, record: &Incoming, why: &str) -> Vec<u8> {
    let value = record
        .payload
        .as_deref()
        .map(|p| match std::str::from_utf8(p) {
            Ok(text) => serde_json::json!({ "text": text }),
            Err(_) => serde_json::json!({ "hex": hex::encode(p) }),
        });
    let line = serde_json::json!({
        "deadLetteredAt": Timestamp::now().to_string(),
        "kafka": {"topic": topic, "partition": partition, "offset": record.offset},
        "error": why,
        "value": value,
    });
    let mut out = Vec::with_capacity(256);
    // Writing JSON into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, &line);
    let _ = out.write_all(b"\n");
    out
}

/// Saves the marker of a re-read from `first_offset` up to `until` (the store's offsets
/// reach it) in `dir` and hands the re-read to hold: the marker first, so that a stop or
/// the next owner goes on with it.
fn start_reread(dir: &Path, until: i64, first_offset: i64) -> Result<Reread, PartitionError> {
    let marker = Marker {
        until,
        first_offset,
        read_to: None,
    };
    reread::save(dir, &marker)?;
    Ok(Reread {
        marker,
        begun: false,
        saved: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        env: StoreEnv,
        runtime: tokio::runtime::Runtime,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let env = StoreEnv {
            source: "kafka".into(),
            store_config: StoreConfig::new(dir.path().join("partitions")),
            slots: super::super::slots::PartitionSlots::new(None, None),
            partition_stores: Default::default(),
            store_root: dir.path().join("partitions"),
            signer: Arc::new(Signer::load_or_create(&data).unwrap()),
            policy: CheckpointPolicy::default(),
            member: "test:1".into(),
            dead_letters: dir.path().join("deadletter").join("source-kafka.jsonl"),
            runtime: runtime.handle().clone(),
            dispatcher: {
                let _entered = runtime.enter();
                Dispatcher::builder("test".parse().unwrap())
                    .runtime(runtime.handle().clone())
                    .build()
                    .unwrap()
            },
            destinations: None,
            ack_timeout: Duration::from_secs(10),
            max_timestamp_ahead: Some(Duration::from_secs(86_400)),
            timeline: None,
            shown: Default::default(),
            witnesses: None,
            record_keys: Arc::new(RecordKeys::new(&[], true)),
            max_record_bytes: 1 << 20,
            store_root_check: None,
            dead_letter_check: None,
        };
        Fixture {
            _dir: dir,
            env,
            runtime,
        }
    }

    fn event(n: u64) -> Vec<u8> {
        format!(
            r#"{{"id":"01936f6e-1b2c-7d3e-8f40-{n:012x}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":{n},"message":{{"msgType":"x"}}}}"#
        )
        .into_bytes()
    }

    fn records(offsets: std::ops::Range<i64>, event_of: impl Fn(i64) -> u64) -> Vec<Incoming> {
        offsets
            .map(|o| Incoming {
                offset: o,
                key: Some(b"n1".to_vec()),
                payload: Some(event(event_of(o))),
                sig: SigHeaders::default(),
                too_large: None,
            })
            .collect()
    }

    fn offsets_stored(env: &StoreEnv) -> Vec<i64> {
        let path = store_path(&env.store_root, "t", 0);
        let mut out: Vec<i64> = auditrail_testkit::store::records(&path)
            .iter()
            .map(|r| r["source"]["kafka"]["offset"].as_i64().unwrap())
            .collect();
        out.sort_unstable();
        out
    }

    /// The fixture with its partition stores inside its data folder (`data/parts`), and
    /// that folder's check, as a server gives it (its high-water marks'): the data
    /// folder and where it is moved away to.
    fn in_data_folder(f: &mut Fixture) -> (PathBuf, PathBuf) {
        let data = f._dir.path().join("data");
        f.env.store_root = data.join("parts");
        f.env.store_root_check = Some(Arc::new(HighWaterMarks::in_data_dir(&data)));
        f.env.dead_letter_check = f.env.store_root_check.clone();
        (data, f._dir.path().join("data.old"))
    }

    #[test]
    fn a_partition_store_is_not_opened_while_its_data_folder_is_moved_away() {
        let mut f = fixture();
        let (data, moved) = in_data_folder(&mut f);
        std::fs::rename(&data, &moved).unwrap();
        let e = PartitionStore::open(&f.env, "t", 0).unwrap_err();
        assert!(matches!(e, PartitionError::FolderGone { .. }), "{e}");
        assert!(e.to_string().contains(&data.display().to_string()), "{e}");
        assert!(!data.exists(), "the data folder was made again at its path");
        // Back: opened where it is, and written.
        std::fs::rename(&moved, &data).unwrap();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..3, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1, 2]);
    }

    #[test]
    fn a_batch_waits_for_its_data_folder_moved_away_and_is_written_once_it_is_back() {
        let mut f = fixture();
        let (data, moved) = in_data_folder(&mut f);
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..3, |o| o as u64 + 1)).unwrap();
        std::fs::rename(&data, &moved).unwrap();
        // Refused as the folder's absence, not taken for another server's ownership
        // (its owner file is not at its path either): the store stays open.
        let e = p
            .write(&f.env, &records(3..6, |o| o as u64 + 1))
            .unwrap_err();
        assert!(matches!(e, PartitionError::FolderGone { .. }), "{e}");
        assert!(!data.exists(), "the data folder was made again at its path");
        std::fs::rename(&moved, &data).unwrap();
        let w = p.write(&f.env, &records(3..6, |o| o as u64 + 1)).unwrap();
        assert_eq!((w.stored, w.next_offset), (3, 6));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn a_dead_letter_waits_for_its_data_folder_moved_away() {
        // The stores outside the data folder (a shared folder), the dead letters in it.
        let f = fixture();
        let data = f._dir.path().join("data");
        let env = StoreEnv {
            dead_letters: data.join("deadletter").join("source-kafka.jsonl"),
            dead_letter_check: Some(Arc::new(HighWaterMarks::in_data_dir(&data))),
            ..f.env.clone()
        };
        let mut p = PartitionStore::open(&env, "t", 0).unwrap();
        let moved = f._dir.path().join("data.old");
        std::fs::rename(&data, &moved).unwrap();
        let mut batch = records(0..3, |o| o as u64 + 1);
        batch[1].payload = Some(b"not an event".to_vec());
        let e = p.write(&env, &batch).unwrap_err();
        assert!(matches!(e, PartitionError::DeadLetter { .. }), "{e}");
        assert!(e.to_string().contains(&data.display().to_string()), "{e}");
        assert!(!data.exists(), "the data folder was made again at its path");
        // Back: the dead letter is written there and the batch passes.
        std::fs::rename(&moved, &data).unwrap();
        let w = p.write(&env, &batch).unwrap();
        assert_eq!((w.invalid, w.next_offset), (1, 3));
        p.close(f.runtime.handle(), false);
        assert!(std::fs::read_to_string(&env.dead_letters)
            .unwrap()
            .contains("not an event"));
    }

    #[test]
    fn a_reopened_store_resumes_after_its_last_offset_and_skips_what_it_has() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.next_offset(), None);
        let w = p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        assert_eq!((w.stored, w.next_offset), (5, 5));
        p.close(f.runtime.handle(), false);
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.next_offset(), Some(5));
        // Read again from offset 3 (a seek that lands early): 3 and 4 are skipped.
        let w = p.write(&f.env, &records(3..8, |o| o as u64 + 1)).unwrap();
        assert_eq!((w.stored, w.duplicates, w.next_offset), (3, 0, 8));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), (0..8).collect::<Vec<_>>());
    }

    /// A source with a retention: its partition store is listed for the server's
    /// retention from its open to its close, and the close waits for a prune under way
    /// (told to stop first) before the store's final checkpoint and its lock's release.
    #[test]
    fn a_store_is_pruned_only_while_open_and_its_close_waits_for_the_prune() {
        let mut f = fixture();
        f.env.store_config.retention = Some(Duration::from_secs(3600));
        f.env.partition_stores = Arc::new(super::super::PartitionStores::new(true));
        let stores = f.env.partition_stores.clone();
        // Without a retention: listed (shown by `/v1/checkpoints`), not pruned.
        let mut plain = fixture();
        plain.env.partition_stores = stores.clone();
        let q = PartitionStore::open(&plain.env, "t", 1).unwrap();
        let listed = stores.listed();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].retention.is_none());
        q.close(plain.runtime.handle(), false);
        assert!(stores.listed().is_empty());

        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let listed = stores.listed();
        assert_eq!(listed.len(), 1);
        let store = listed[0].clone();
        assert_eq!((store.id.topic.as_str(), store.id.partition), ("t", 0));
        let pruning = store.begin().unwrap();
        let closing = store.closing();
        let handle = f.runtime.handle().clone();
        let closer = std::thread::spawn(move || p.close(&handle, false));
        // The close tells the prune to stop, then waits for it.
        f.runtime
            .block_on(closing.clone().wait_for(|c| *c))
            .unwrap();
        assert!(stores.listed().is_empty(), "unlisted at once");
        assert!(!closer.is_finished(), "the close waits for the prune");
        drop(pruning);
        closer.join().unwrap();
        assert!(store.begin().is_none(), "a closed store is not pruned");
        // Closed for good: opened again (its lock was released), listed again.
        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(stores.listed().len(), 1);
        p.close(f.runtime.handle(), false);
        assert!(stores.listed().is_empty());
    }

    #[test]
    fn reading_the_last_stored_offset_again_is_no_duplicate_and_no_alarm() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(4));
        let w = p.write(&f.env, &records(4..6, |o| o as u64 + 1)).unwrap();
        assert_eq!((w.stored, w.duplicates, w.next_offset), (1, 0, 6));
        assert_eq!(w.not_the_stored_partition, None);
        p.close(f.runtime.handle(), false);
    }

    #[test]
    fn events_the_store_lacks_below_its_offsets_are_stored_and_flagged() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        // The topic was deleted and created again: offsets 0.. hold other events.
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(4..7, |o| o as u64 + 100)).unwrap();
        assert_eq!((w.stored, w.duplicates, w.next_offset), (3, 0, 7));
        assert_eq!(w.not_the_stored_partition, Some(4));
        // Read again from the beginning: what the store lacks is stored, once.
        let w = p.write(&f.env, &records(0..7, |o| o as u64 + 100)).unwrap();
        assert_eq!((w.stored, w.duplicates, w.next_offset), (4, 3, 7));
        assert_eq!(w.not_the_stored_partition, None);
        p.close(f.runtime.handle(), false);
        let mut stored = offsets_stored(&f.env);
        stored.dedup();
        assert_eq!(stored, (0..7).collect::<Vec<_>>());
        assert_eq!(
            auditrail_testkit::store::records(&store_path(&f.env.store_root, "t", 0)).len(),
            12
        );
    }

    #[test]
    fn a_damaged_reread_marker_is_replaced_by_the_safe_bound_not_left_to_wedge_the_partition() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        let dir = partition_dir(&f.env.store_root, "t", 0);
        std::fs::write(reread::marker_path(&dir), "{\"until\":").unwrap();
        let p = PartitionStore::open(&f.env, "t", 0).expect("a damaged marker is mended");
        assert_eq!(p.resume_offset(), Some(0), "read again from the beginning");
        assert_eq!(
            reread::load(&dir).unwrap(),
            Some(Marker {
                until: 5,
                first_offset: 0,
                read_to: None,
            }),
            "written anew with the store's next offset"
        );
        p.close(f.runtime.handle(), false);
    }

    #[test]
    fn a_reread_cut_short_goes_on_at_the_next_open_from_where_it_got() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        // The topic was created again; its offsets 4..7 are read first (the store
        // resumes at 4): the alarm, and those three stored.
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(4..7, |o| o as u64 + 100)).unwrap();
        assert_eq!(w.not_the_stored_partition, Some(4));
        p.reread_begins();
        // Stopped before the re-read from the beginning stored offsets 0..4.
        p.close(f.runtime.handle(), false);
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(0), "the re-read goes on");
        let w = p.write(&f.env, &records(0..3, |o| o as u64 + 100)).unwrap();
        assert_eq!(
            (w.stored, w.duplicates, w.not_the_stored_partition),
            (3, 0, None)
        );
        // Stopped again, short of the old store's offsets: from the re-read's position
        // (offset 3, its last record read again on purpose), not from the beginning.
        p.close(f.runtime.handle(), false);
        assert_eq!(
            reread::load(&partition_dir(&f.env.store_root, "t", 0))
                .unwrap()
                .unwrap()
                .read_to,
            Some(3)
        );
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(2));
        assert!(!p.rereading());
        let w = p.write(&f.env, &records(2..8, |o| o as u64 + 100)).unwrap();
        assert_eq!(
            (w.stored, w.duplicates, w.not_the_stored_partition),
            (2, 3, None)
        );
        p.close(f.runtime.handle(), false);
        // Read past every offset the store held: it resumes at its offset again.
        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(7));
        p.close(f.runtime.handle(), false);
        let mut stored = offsets_stored(&f.env);
        stored.dedup();
        assert_eq!(stored, (0..8).collect::<Vec<_>>());
        assert_eq!(
            auditrail_testkit::store::records(&store_path(&f.env.store_root, "t", 0)).len(),
            13
        );
    }

    #[test]
    fn records_read_before_the_reread_began_do_not_end_it() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(4..6, |o| o as u64 + 100)).unwrap();
        assert!(w.read_from_beginning);
        // Higher offsets written before the consumer was at the beginning (the seek
        // failed, say) are no re-read: the seek is still asked for, and the next open
        // still reads from the beginning.
        let w = p.write(&f.env, &records(6..9, |o| o as u64 + 100)).unwrap();
        assert_eq!(
            (w.read_from_beginning, w.not_the_stored_partition),
            (true, None)
        );
        p.reread_begins();
        let w = p.write(&f.env, &records(0..2, |o| o as u64 + 100)).unwrap();
        assert!(!w.read_from_beginning);
        p.close(f.runtime.handle(), false);
        // The re-read goes on from its own position (2), short of its bound (6).
        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(1));
        let marker = reread::load(&partition_dir(&f.env.store_root, "t", 0)).unwrap();
        assert_eq!(marker.map(|m| (m.until, m.read_to)), Some((6, Some(2))));
        p.close(f.runtime.handle(), false);
    }

    #[test]
    fn a_new_partition_shorter_than_the_store_s_offsets_is_read_again_once() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..8, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        // The topic was created again with three records, all below the store's
        // offsets (the consumer reset to the earliest record: 8 was past the end).
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(0..3, |o| o as u64 + 100)).unwrap();
        assert_eq!((w.stored, w.not_the_stored_partition), (3, Some(0)));
        p.reread_begins();
        let w = p.write(&f.env, &records(0..3, |o| o as u64 + 100)).unwrap();
        assert_eq!((w.stored, w.duplicates, w.next_offset), (0, 3, 3));
        p.close(f.runtime.handle(), false);
        // Read to the new partition's end: reading resumes there, not at its
        // beginning (nor at 7, past its end), at every open from now on.
        for round in 0..2 {
            let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
            assert!(!p.rereading());
            assert_eq!(p.resume_offset(), Some(2 + round));
            let from = 2 + round;
            let w = p
                .write(&f.env, &records(from..from + 2, |o| o as u64 + 100))
                .unwrap();
            assert_eq!(
                (w.stored, w.duplicates, w.not_the_stored_partition),
                (1, 0, None)
            );
            p.close(f.runtime.handle(), false);
        }
        // Once the new partition passes the old offsets, the marker goes.
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(4..9, |o| o as u64 + 100)).unwrap();
        assert_eq!((w.stored, w.next_offset), (4, 9));
        p.close(f.runtime.handle(), false);
        let dir = partition_dir(&f.env.store_root, "t", 0);
        assert_eq!(reread::load(&dir).unwrap(), None);
        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(8));
        p.close(f.runtime.handle(), false);
        let mut stored = offsets_stored(&f.env);
        stored.dedup();
        assert_eq!(stored, (0..9).collect::<Vec<_>>());
        assert_eq!(
            auditrail_testkit::store::records(&store_path(&f.env.store_root, "t", 0)).len(),
            8 + 9
        );
    }

    #[test]
    fn a_reread_position_behind_what_was_stored_reads_known_records_again_and_no_alarm() {
        // A crash after a batch was stored and before the marker got its position: the
        // marker is behind the store.
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..8, |o| o as u64 + 1)).unwrap();
        p.write(&f.env, &records(0..4, |o| o as u64 + 100)).unwrap();
        p.close(f.runtime.handle(), false);
        let dir = partition_dir(&f.env.store_root, "t", 0);
        reread::save(
            &dir,
            &Marker {
                until: 8,
                first_offset: 0,
                read_to: Some(1),
            },
        )
        .unwrap();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(0));
        let w = p.write(&f.env, &records(0..5, |o| o as u64 + 100)).unwrap();
        assert_eq!(
            (w.stored, w.duplicates, w.not_the_stored_partition),
            (1, 3, None)
        );
        p.close(f.runtime.handle(), false);
        assert_eq!(reread::load(&dir).unwrap().unwrap().read_to, Some(5));
    }

    #[test]
    fn the_same_event_at_another_offset_is_stored_once() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        // Offsets 0..4 carry events 1..4; 4..8 carry them again (a producer retry
        // through another ingest server), and the store was reopened in between.
        p.write(&f.env, &records(0..4, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(4..8, |o| o as u64 - 3)).unwrap();
        assert_eq!((w.stored, w.duplicates, w.next_offset), (0, 4, 8));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_store_taken_over_by_another_server_refuses_the_batch() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..2, |o| o as u64 + 1)).unwrap();
        // Another server took the partition over on storage whose locks do not hold
        // (it raised the epoch): this server must not write one more record.
        let _theirs = Owner::take(&partition_dir(&f.env.store_root, "t", 0), "other:2").unwrap();
        let e = p
            .write(&f.env, &records(2..4, |o| o as u64 + 1))
            .unwrap_err();
        assert!(
            matches!(&e, PartitionError::Fenced { by, .. } if by.contains("other:2")),
            "{e}"
        );
        p.close(f.runtime.handle(), true);
        assert_eq!(offsets_stored(&f.env), vec![0, 1]);
    }

    #[test]
    fn records_that_are_not_events_are_dead_lettered_and_the_others_stored() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let mut batch = records(0..3, |o| o as u64 + 1);
        batch[1].payload = Some(b"{\"id\":\"not an event\"}".to_vec());
        batch.push(Incoming {
            offset: 3,
            key: None,
            payload: Some(vec![0xff, 0xfe]),
            sig: SigHeaders::default(),
            too_large: None,
        });
        batch.push(Incoming {
            offset: 4,
            key: Some(b"someone-else".to_vec()),
            payload: Some(event(9)),
            sig: SigHeaders::default(),
            too_large: None,
        });
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!(
            (w.stored, w.invalid, w.key_mismatch, w.next_offset),
            (3, 2, 1, 5)
        );
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 2, 4]);
        let dead = std::fs::read_to_string(&f.env.dead_letters).unwrap();
        let lines: Vec<serde_json::Value> = dead
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{dead}");
        assert_eq!(lines[0]["kafka"]["offset"], 1);
        assert_eq!(lines[0]["value"]["text"], "{\"id\":\"not an event\"}");
        assert_eq!(lines[1]["kafka"]["offset"], 3);
        assert_eq!(lines[1]["value"]["hex"], "fffe");
        assert!(lines[1]["error"].as_str().unwrap().len() > 5);
    }

    #[test]
    fn records_without_a_key_or_keyed_by_another_node_are_counted_as_key_mismatches() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let mut batch = records(0..4, |o| o as u64 + 1);
        batch[1].key = None;
        batch[2].key = Some(Vec::new());
        batch[3].key = Some(b"n2".to_vec());
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!((w.stored, w.key_mismatch), (4, 3));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1, 2, 3]);
    }

    #[test]
    fn an_event_dated_too_far_ahead_is_dead_lettered_alone_and_the_partition_goes_on() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let mut batch = records(0..3, |o| o as u64 + 1);
        let ahead = String::from_utf8(event(2))
            .unwrap()
            .replace("2026-11-25", "2099-11-25");
        batch[1].payload = Some(ahead.clone().into_bytes());
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!((w.stored, w.invalid, w.next_offset), (2, 1, 3));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 2]);
        let lines = dead_letters(&f.env);
        assert_eq!(dead_offsets(&f.env), [1]);
        assert_eq!(lines[0]["value"]["text"], ahead.as_str());
        let why = lines[0]["error"].as_str().unwrap();
        assert!(why.contains("max_timestamp_ahead_s"), "{why}");
        // Read again at the store's resume offset: not dead-lettered twice.
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(2));
        let w = p.write(&f.env, &batch[1..]).unwrap();
        assert_eq!((w.stored, w.invalid, w.duplicates), (0, 0, 0));
        p.close(f.runtime.handle(), false);
        assert_eq!(dead_offsets(&f.env), [1]);
    }

    #[test]
    fn an_event_refused_as_too_far_ahead_is_refused_again_when_it_would_pass_later() {
        let mut f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let mut batch = records(0..3, |o| o as u64 + 1);
        batch[1].payload = Some(
            String::from_utf8(event(2))
                .unwrap()
                .replace("2026-11-25", "2099-11-25")
                .into_bytes(),
        );
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!((w.stored, w.invalid, w.next_offset), (2, 1, 3));
        // Time passes (here: the bound is lifted); the records are read again below the
        // store's offset (a seek back): no sign of another partition, nothing stored.
        f.env.max_timestamp_ahead = None;
        let w = p.write(&f.env, &batch[1..]).unwrap();
        assert_eq!(w.not_the_stored_partition, None);
        assert_eq!((w.stored, w.invalid, w.next_offset), (0, 0, 3));
        assert!(!reread::marker_path(&p.dir).exists());
        p.close(f.runtime.handle(), false);
        // The last record refused, read at and past the resume offset after a reopen:
        // refused again, not stored after its dead letter.
        f.env.max_timestamp_ahead = Some(Duration::from_secs(86_400));
        let mut tail = records(3..5, |o| o as u64 + 1);
        tail[1].payload = Some(
            String::from_utf8(event(5))
                .unwrap()
                .replace("2026-11-25", "2099-11-25")
                .into_bytes(),
        );
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &tail).unwrap();
        assert_eq!((w.stored, w.invalid), (1, 1));
        p.close(f.runtime.handle(), false);
        f.env.max_timestamp_ahead = None;
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(3));
        let w = p.write(&f.env, &tail).unwrap();
        assert_eq!(w.not_the_stored_partition, None);
        assert_eq!((w.stored, w.invalid, w.next_offset), (0, 1, 5));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 2, 3]);
    }

    /// Records of events with routing key `rk` (a partition folder of their own).
    /// Events dated now (the fixture's date would fall past a 30-day retention one day),
    /// and the one of `old` dated in 2020.
    fn dated_now(offsets: std::ops::Range<i64>, old: i64) -> Vec<Incoming> {
        let now = Timestamp::now().to_string();
        let mut batch = records(offsets, |o| o as u64 + 1);
        for r in &mut batch {
            let date = if r.offset == old {
                "2020-01-01T10:00:00.000Z"
            } else {
                now.as_str()
            };
            let text = String::from_utf8(r.payload.take().unwrap()).unwrap();
            r.payload = Some(text.replace("2026-11-25T16:55:49.123Z", date).into_bytes());
        }
        batch
    }

    #[test]
    fn an_event_past_the_store_s_retention_is_dead_lettered_and_refused_again_under_a_longer_one() {
        let mut f = fixture();
        f.env.store_config.retention = Some(Duration::from_secs(30 * 86_400));
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let batch = dated_now(0..3, 2);
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!((w.stored, w.past_retention, w.invalid), (2, 1, 0));
        assert_eq!((w.first_past_retention, w.next_offset), (Some(2), 3));
        let lines = dead_letters(&f.env);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["kafka"]["offset"], 2);
        let why = lines[0]["error"].as_str().unwrap();
        assert!(
            why.contains("past the retention") && why.contains("30d"),
            "{why}"
        );
        p.close(f.runtime.handle(), false);
        // Reopened with a retention that keeps 2020: the refused record, read again past
        // the resume offset, is refused again, not stored after its dead letter.
        f.env.store_config.retention = Some(Duration::from_secs(36_500 * 86_400));
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.resume_offset(), Some(1));
        let w = p.write(&f.env, &batch[1..]).unwrap();
        assert_eq!(w.not_the_stored_partition, None);
        assert_eq!((w.stored, w.past_retention, w.next_offset), (0, 1, 3));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1]);
        let lines = dead_letters(&f.env);
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1]["error"]
                .as_str()
                .unwrap()
                .contains("the verdict stands"),
            "{}",
            lines[1]
        );
    }

    fn keyed(offsets: std::ops::Range<i64>, rk: &str) -> Vec<Incoming> {
        let mut out = records(offsets, |o| o as u64 + 1);
        for r in &mut out {
            let text = String::from_utf8(r.payload.take().unwrap()).unwrap();
            let keyed = text.replace(
                r#""node":"n1""#,
                &format!(r#""routingKey":"{rk}","node":"n1""#),
            );
            r.payload = Some(keyed.into_bytes());
        }
        out
    }

    /// A plain file where the partition folder of routing key `rk` must go: the store
    /// refuses that partition's events for good.
    fn block_for_good(env: &StoreEnv, rk: &str) {
        let generic = store_path(&env.store_root, "t", 0).join("generic");
        std::fs::create_dir_all(&generic).unwrap();
        std::fs::write(generic.join(rk), b"not a folder").unwrap();
    }

    fn dead_letters(env: &StoreEnv) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&env.dead_letters)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The offsets of the dead-lettered records, in file order.
    fn dead_offsets(env: &StoreEnv) -> Vec<i64> {
        dead_letters(env)
            .iter()
            .map(|l| l["kafka"]["offset"].as_i64().unwrap())
            .collect()
    }

    #[test]
    fn events_refused_for_good_are_dead_lettered_and_their_offsets_passed() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &keyed(0..1, "svc-a")).unwrap();
        block_for_good(&f.env, "svc-x");
        let mut batch = keyed(1..5, "svc-a");
        batch[1] = keyed(2..3, "svc-x").remove(0);
        batch[3] = keyed(4..5, "svc-x").remove(0);
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!((w.stored, w.refused, w.next_offset), (2, 2, 5));
        assert_eq!(p.next_offset(), Some(5));
        let lines = dead_letters(&f.env);
        assert_eq!(dead_offsets(&f.env), [2, 4]);
        assert_eq!(
            lines[0]["value"]["text"].as_str().unwrap().as_bytes(),
            batch[1].payload.as_deref().unwrap()
        );
        assert!(
            lines[0]["error"]
                .as_str()
                .unwrap()
                .contains("generic/svc-x"),
            "{}",
            lines[0]
        );
        // The next batch goes on from there.
        let w = p.write(&f.env, &keyed(5..6, "svc-a")).unwrap();
        assert_eq!((w.stored, w.refused, w.next_offset), (1, 0, 6));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1, 3, 5]);
    }

    #[test]
    fn an_event_refused_for_good_that_cannot_be_dead_lettered_passes_no_offset() {
        let mut f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        block_for_good(&f.env, "svc-x");
        // The dead-letter file cannot be made: a file sits where its folder goes.
        let writable = f.env.dead_letters.clone();
        let in_the_way = f._dir.path().join("in-the-way");
        std::fs::write(&in_the_way, b"not a folder").unwrap();
        f.env.dead_letters = in_the_way.join("source-kafka.jsonl");
        let mut batch = keyed(0..3, "svc-a");
        batch[1] = keyed(1..2, "svc-x").remove(0);
        let e = p.write(&f.env, &batch).unwrap_err();
        assert!(matches!(e, PartitionError::DeadLetter { .. }), "{e}");
        assert_eq!(p.next_offset(), None, "nothing passed");
        // Once the file can be written, the batch read again stores nothing twice and
        // dead-letters the refused event.
        f.env.dead_letters = writable;
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!(
            (w.stored, w.duplicates, w.refused, w.next_offset),
            (0, 2, 1, 3)
        );
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 2]);
        assert_eq!(dead_offsets(&f.env), [1]);
    }

    #[test]
    fn events_refused_for_now_are_not_dead_lettered_and_their_batch_is_read_again() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &keyed(0..1, "svc-a")).unwrap();
        // The partition folder of `svc-y` may not be made for now; `svc-x`'s never.
        let generic = store_path(&f.env.store_root, "t", 0).join("generic");
        block_for_good(&f.env, "svc-x");
        let locked = match auditrail_testkit::unwritable::Unwritable::make(&generic) {
            Ok(l) => l,
            Err(why) => {
                auditrail_testkit::prereq::skip(&format!(
                    "cannot make a folder unwritable here: {why}"
                ));
                return;
            }
        };
        let mut batch = keyed(1..4, "svc-a");
        batch[1] = keyed(2..3, "svc-y").remove(0);
        batch[2] = keyed(3..4, "svc-x").remove(0);
        let e = p.write(&f.env, &batch).unwrap_err();
        assert!(
            matches!(
                e,
                PartitionError::Write {
                    source: TargetError::PartlyTaken { .. },
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(p.next_offset(), Some(1), "the batch is read again");
        assert!(dead_letters(&f.env).is_empty(), "nothing dead-lettered yet");
        // What the store took is shown and counted now: offset 0, and `svc-a`'s event
        // of the failed batch.
        assert_eq!(shown_counts(&f.env), (2, 0));
        drop(locked);
        // Fixed: `svc-y` is stored, `svc-x` (still refused for good) dead-lettered;
        // `svc-a`'s event, read again, is expected: the source counts it as a record it
        // had, the live view and `/v1/stats` not as a producer's duplicate.
        let w = p.write(&f.env, &batch).unwrap();
        assert_eq!(
            (w.stored, w.duplicates, w.refused, w.next_offset),
            (1, 1, 1, 4)
        );
        assert_eq!(shown_counts(&f.env), (3, 0));
        assert_eq!(shown_offsets(&f.env), [2, 1, 0]);
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1, 2]);
        assert_eq!(dead_offsets(&f.env), [3]);
    }

    /// The live view's and `/v1/stats`' counts of the fixture's server: (stored,
    /// duplicates).
    fn shown_counts(env: &StoreEnv) -> (u64, u64) {
        let (topics, _) = env.shown.stats.snapshot();
        let (accepted, duplicates) = topics
            .values()
            .fold((0, 0), |(a, d), c| (a + c.accepted, d + c.duplicates));
        assert_eq!(accepted, env.shown.metrics.accepted.get());
        assert_eq!(duplicates, env.shown.metrics.duplicates.get());
        (accepted, duplicates)
    }

    /// The Kafka offsets of the live view's events, newest first.
    fn shown_offsets(env: &StoreEnv) -> Vec<i64> {
        env.shown
            .recent
            .newest()
            .iter()
            .map(|e| e.received.kafka.as_ref().unwrap().offset)
            .collect()
    }

    #[test]
    fn records_read_again_are_neither_shown_again_nor_counted_as_duplicates() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..5, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        // Reopened (a restart, or the next owner after a rebalance): the last stored
        // offset is read again, then one new record.
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let w = p.write(&f.env, &records(4..6, |o| o as u64 + 1)).unwrap();
        assert_eq!((w.stored, w.duplicates), (1, 0));
        assert_eq!(shown_counts(&f.env), (6, 0));
        assert_eq!(shown_offsets(&f.env), [5, 4, 3, 2, 1, 0]);
        // The first event again, at a new offset (a producer's retry): a duplicate,
        // not shown again.
        let w = p.write(&f.env, &records(6..7, |_| 1)).unwrap();
        assert_eq!((w.stored, w.duplicates), (0, 1));
        assert_eq!(shown_counts(&f.env), (6, 1));
        assert_eq!(shown_offsets(&f.env).len(), 6);
        p.close(f.runtime.handle(), false);
    }

    #[test]
    fn an_open_asked_to_stop_ends_without_writing_and_leaves_the_store_free() {
        let f = fixture();
        let mut p = PartitionStore::open(&f.env, "t", 0).unwrap();
        p.write(&f.env, &records(0..3, |o| o as u64 + 1)).unwrap();
        p.close(f.runtime.handle(), false);
        let owner = std::fs::read(partition_dir(&f.env.store_root, "t", 0).join("owner")).unwrap();
        // The source is stopping: the open ends at its first file (the recovery's
        // walk), before the owner epoch is raised or a checkpoint written.
        let stopping = ReadProgress::new();
        stopping.stop();
        let e = PartitionStore::open_watched(&f.env, "t", 0, &stopping, Some((1, 2))).unwrap_err();
        assert!(e.is_stopped(), "{e}");
        assert_eq!(
            std::fs::read(partition_dir(&f.env.store_root, "t", 0).join("owner")).unwrap(),
            owner
        );
        // Nothing stays open: the next open takes the lock and finds every record.
        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        assert_eq!(p.next_offset(), Some(3));
        p.close(f.runtime.handle(), false);
        assert_eq!(offsets_stored(&f.env), vec![0, 1, 2]);
    }

    #[test]
    fn a_second_opener_is_told_the_store_is_locked() {
        let f = fixture();
        let p = PartitionStore::open(&f.env, "t", 0).unwrap();
        let e = PartitionStore::open(&f.env, "t", 0).unwrap_err();
        assert!(matches!(e, PartitionError::Locked { .. }), "{e}");
        p.close(f.runtime.handle(), false);
        PartitionStore::open(&f.env, "t", 0)
            .unwrap()
            .close(f.runtime.handle(), false);
    }
}
