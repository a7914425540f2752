//! The `store` destination: the event server's durable, partitioned, hash-chained
//! record store.
//!
//! # Layout
//!
//! ```text
//! <path>/<topic>/<routing-key>/YYYY/mm/dd/HH/<first record number, 20 digits>.jsonl
//! ```
//!
//! The topic and routing-key levels can each be switched off; events without a routing
//! key go to [`NO_ROUTING_KEY_FOLDER`]. Time folders are UTC and come from the
//! **event's own timestamp**, so that a late event (spooled on its node during an
//! outage) lands with the events of its time, and a folder answers "what happened in
//! that hour". Segment files roll by size; a segment's name is the store-wide number
//! of its first record, so sorting names sorts segments along the chain.
//!
//! # Records
//!
//! One JSON object per line (format fixed by [`crate::integrity::chain`]):
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
//! ```
//! use std::sync::Arc;
//! use auditrail_core::Event;
//! use auditrail_eventserver::store::{self, StoreConfig, StoreTarget};
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
//! assert!(handle.receipt(&[event.id]).is_some());
//! let mut seen = 0;
//! drop(target);
//! store::scan_records(&dir.path().join("store"), |r| { assert_eq!(r.seq, 1); seen += 1 })?;
//! assert_eq!(seen, 1);
//! # Ok(()) }
//! ```

mod config;
mod error;
mod handle;
mod layout;
mod record;
pub mod recovery;
mod scan;
mod target;
mod writer;

pub use config::{
    Durability, FlushMode, FlushPolicy, Partitioning, StoreConfig, DEFAULT_SEGMENT_MAX_BYTES,
};
pub use error::StoreError;
pub use handle::{handle, handles, Receipt, StoreHandle, StoreStats, RECENT_LINKS};
pub use layout::{parse_segment_file_name, segment_file_name, SEGMENT_EXT};
pub use recovery::RecoveryReport;
pub use scan::{scan_records, ScanReport, StoredRecord};
pub use target::StoreTarget;
pub use writer::MAX_UNACKED_RECORDS;

/// The folder of events that have no routing key (when `folder_by_routing_key`).
/// A routing key spelled `_none` shares it; the records themselves tell them apart.
pub const NO_ROUTING_KEY_FOLDER: &str = "_none";

auditrail_core::register_target! {
    name: "store",
    description: "event server destination: durable, partitioned, hash-chained JSON-lines store",
    example: include_str!("example.toml"),
    config: StoreConfig,
}
