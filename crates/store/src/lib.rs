//! # auditrail-store
//!
//! auditrail's central store: a durable, partitioned, hash-chained store of JSON
//! lines. This crate owns its on-disk format and everything that reads or writes it:
//!
//! - **The format**: the layout of partition folders and segment files ([`Layout`],
//!   [`Partition`], [`segment_file_name`]), the record line ([`Record`]) with its chain
//!   fields ([`chain`]), and the files of the store's root ([`root`]).
//! - **Reading**: one walker of store folders ([`StoreFiles`]) and one reader of stored
//!   records ([`SegmentReader`], [`Line`], [`Record`]), used by recovery, the server's
//!   de-duplication rebuild, `auditrail verify`, queries and the tests alike.
//! - **Writing**: the single writer with group commit and undo ([`StoreTarget`], the
//!   `store` target type), crash recovery ([`recovery`]), and a [`StoreHandle`] on an
//!   open store (durability, chain head, chain ranges for receipts, counters).
//!
//! Signed checkpoints, receipts and verification build on this crate (the integrity
//! layer); the store knows nothing of them beyond reserving their file names.
//!
//! # Layout
//!
//! ```text
//! <path>/<topic>/<routing-key>/YYYY/mm/dd/HH/<first record number, 20 digits>.jsonl
//! ```
//!
//! The topic and routing-key levels can each be switched off; events without a routing
//! key go to [`NO_ROUTING_KEY_FOLDER`]. A topic or routing key becomes a folder name
//! through one rule, [`folder_name`]: plain names as they are, every other name as a
//! readable prefix and a hash, so that a folder name always fits the file system and
//! holds nothing unsafe or misleading in a path; the exact names stay in the records. Time folders are UTC and come from the
//! **event's own timestamp**, so that a late event (spooled on its node during an
//! outage) lands with the events of its time, and a folder answers "what happened in
//! that hour". Segment files roll by size; a segment's name is the store-wide number
//! of its first record, so sorting names sorts segments along the chain.
//!
//! # Records
//!
//! One JSON object per line (see [`record`] and [`chain`]):
//!
//! ```text
//! {"clientEvent":{...},"origAddress":"10.0.0.7","serverTimestamp":"...","keyId":"k1","chainSeq":42,"chainHash":"..."}
//! ```
//!
//! # Guarantees
//!
//! - `flush = "durable"` (default): `send` returns `Ok` only after every file the batch
//!   touched, and every new folder, was fsynced; one fsync per file per batch (group
//!   commit). With a flush policy, [`StoreHandle::is_durable`] is false.
//! - A failed batch (disk full, any I/O error) is undone: every touched file is cut
//!   back to its length before the batch and the chain is rewound; nothing partial stays.
//! - One writer per store (a lock on the root folder); opening recovers from a crash
//!   (see [`recovery`]).
//!
//! # Writing and reading back
//!
//! ```
//! use std::sync::Arc;
//! use auditrail_core::Event;
//! use auditrail_store::{Layout, SegmentReader, StoreConfig, StoreFiles, StoreHandle, StoreTarget};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let config: StoreConfig = serde_json::from_value(serde_json::json!({"path": "store"}))?;
//! let target = StoreTarget::open(&dir.path().join("store"), &config, "store")?;
//! let event = Arc::new(Event::from_json(r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc",
//!     "timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":1,
//!     "message":{"msgType":"login"}}"#)?);
//! target.send_blocking(&[event.clone()])?;
//! let handle = target.handle();
//! assert!(handle.is_durable());
//! assert_eq!(handle.head().seq, 1);
//! assert!(handle.chain_range(&[StoreHandle::receipt_key(&event)]).is_some());
//! drop(target);
//!
//! // Any reader: walk the partitions, read each segment's records.
//! let files = StoreFiles::walk(&dir.path().join("store"))?;
//! for partition in files.partitions(&Layout::from(&config)) {
//!     let values = partition.partition.as_ref().unwrap();
//!     assert_eq!(values.topic.as_ref().unwrap().name(), "generic");
//!     for segment in &partition.segments {
//!         SegmentReader::open(&segment.path)?.for_each_line(|line| {
//!             // The one reader of what a line holds (queries and verify use it too).
//!             let record = line.stored_event().unwrap();
//!             assert_eq!(record.link.unwrap().seq, 1);
//!             assert_eq!(record.event.id, event.id);
//!         })?;
//!     }
//! }
//! # Ok(()) }
//! ```

mod archive_places;
mod busy;
pub mod chain;
pub mod checkpoint_pieces;
mod config;
pub mod deleted_seqs;
mod error;
mod folder_name;
mod handle;
mod handles;
mod head_state;
mod identity;
mod layout;
mod layout_check;
pub mod merkle;
mod place;
mod placement;
mod progress;
pub mod prune;
mod prune_removable;
mod read;
pub mod record;
mod recorded_deletions;
pub mod recovery;
mod refused_batch;
pub mod reserve;
pub mod retention_clock;
pub mod root;
mod scan;
mod stored_event;
mod target;
pub mod timeline;
mod walk;
mod wanted;
mod writer;

pub use archive_places::{check_archive_places, ArchivePlace, ArchivePlaceError};
pub use config::{
    archive_url_spelled, check_bucket, check_region, check_s3_endpoint, retention_age,
    ArchiveConfig, ArchiveConfigError, ArchiveKey, ArchiveLocation, ArchiveReason, Durability,
    FlushMode, FlushPolicy, Partitioning, S3ValueError, StoreConfig, StoreConfigError,
    DEFAULT_SEGMENT_MAX_BYTES,
};
pub use deleted_seqs::{NodeDeleted, DELETED_SEQS_FILE};
pub use error::{LayoutMismatch, LinkInStore, StoreError};
pub use folder_name::{
    folder_name, is_hashed, is_plain, FOLDER_NAME_MAX_BYTES, PREFIX_MAX_BYTES, VERBATIM_MAX_BYTES,
};
pub use handle::{ChainRange, Head, RecordGone, StoreHandle, StoreStats, RECENT_LINKS};
pub use handles::{DEFAULT_MAX_OPEN_FILES, MAX_SYNC_OPEN_FILES};
pub use head_state::{HeadRefusal, HeadState, FULL_DISK_FREE_BYTES};
pub use identity::{identity_hash, receipt_tag_key, ReceiptKey};
pub use layout::{
    parse_segment_file_name, segment_file_name, KeyFolder, Layout, Partition, TimeFolder,
    TopicFolder, NO_ROUTING_KEY_FOLDER, SEGMENT_EXT,
};
pub use place::WhyGone;
pub use placement::{Misfit, MisplacedPartition};
pub use progress::{ReadCounts, ReadProgress};
pub use prune::{
    DeletedRange, Left, PruneError, PruneOnly, PrunePlan, PruneRule, PrunedPartition, SegmentSize,
    Unremovable,
};
pub use read::{Chunk, Line, Lines, SegmentReader, TornTail, DEFAULT_CHUNK_BYTES};
pub use record::{EventIdentity, Filing, Record, RecordError};
pub use recorded_deletions::AlreadyDeleted;
pub use recovery::RecoveryReport;
pub use refused_batch::RefusedBatch;
pub use reserve::{Reserve, ReserveError, RESERVE_FILE};
pub use retention_clock::{ClockReading, RetentionClock, CLOCK_TOLERANCE};
pub use root::{CHECKPOINT_LOG, CHECKPOINT_LOG_CUT, RESERVED_ROOT_NAMES, STORE_ID_FILE};
pub use scan::{recover_closed, scan_records, ScanReport};
pub use stored_event::{StoredEvent, WireEvent};
pub use target::StoreTarget;
pub use timeline::{CatchUpRate, CatchUpRateError, Timeline, MAX_CATCH_UP_RATE};
pub use walk::{FileKind, PartitionFiles, StoreFile, StoreFiles, CORRUPT_SUFFIX, CUT_SUFFIX};
pub use writer::MAX_UNACKED_RECORDS;

/// The `type` of store destinations in config files.
pub const TYPE_NAME: &str = "store";

auditrail_core::register_target! {
    name: TYPE_NAME,
    description: "event server destination: durable, partitioned, hash-chained JSON-lines store",
    example: include_str!("../example.toml"),
    config: StoreConfig,
}
