//! Whether a record line is in the folder the store's layout puts it in: the rule
//! `auditrail verify` reports as `misplaced-record` ([`Layout::rightly_in`], from the
//! line's [`Filing`]) and that a prune applies before it signs a partition away.
//!
//! A prune selects partitions by their folder's name alone; a record moved into an
//! old folder (by someone who can write the files but has no signing key) would be
//! deleted, and its deletion signed as retention, with nothing left to show the move
//! (tryout62/06). A partition holding a record that does not belong there is
//! therefore not pruned: it stays for an operator, and verify keeps naming it.

use std::path::Path;

use auditrail_core::Timestamp;

use crate::record::Filing;
use crate::Layout;

/// Why a record line does not belong in the folder it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    /// Its topic, routing key or timestamp cannot be read: no folder is its.
    #[error("its topic, routing key or timestamp cannot be read ({0})")]
    Unreadable(String),
    /// Its timestamp is no time: no folder is its.
    #[error("its timestamp {timestamp:?} is no time ({reason})")]
    NoTime {
        /// The timestamp as stored.
        timestamp: String,
        /// Why it is no time.
        reason: String,
    },
    /// It belongs in another folder.
    #[error("topic {topic:?}, {key}, timestamp {timestamp} belongs in {belongs}/")]
    Elsewhere {
        /// Its topic.
        topic: String,
        /// Its routing key, said (`routing key "k"` or `no routing key`).
        key: String,
        /// Its timestamp as stored.
        timestamp: String,
        /// The folder the layout puts it in (relative to the store, `/`-separated).
        belongs: String,
    },
}

impl Layout {
    /// Why the record `line` (without its `\n`) is not where this layout puts it when
    /// it is in `dir` (relative to the store root); `None`: it is.
    pub fn record_misfit(&self, dir: &Path, line: &[u8]) -> Option<Misfit> {
        let f = match Filing::read(line) {
            Ok(f) => f,
            Err(e) => return Some(Misfit::Unreadable(e.to_string())),
        };
        let t = match f.timestamp.parse::<Timestamp>() {
            Ok(t) => t,
            Err(e) => {
                return Some(Misfit::NoTime {
                    timestamp: f.timestamp.to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let key = f.routing_key.as_deref();
        if self.rightly_in(dir, &f.topic, key, &t) {
            return None;
        }
        Some(Misfit::Elsewhere {
            topic: f.topic.to_string(),
            key: key.map_or("no routing key".to_string(), |k| {
                format!("routing key {k:?}")
            }),
            timestamp: f.timestamp.to_string(),
            belongs: crate::walk::slash_separated(&self.partition_for(&f.topic, key, &t)),
        })
    }
}

/// A partition a prune left out because a record in it does not belong in its folder
/// (the first such record found): not deleted, not recorded, kept for an operator
/// (`auditrail verify` names every such record, `misplaced-record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisplacedPartition {
    /// The folder, relative to the store root, `/`-separated.
    pub folder: String,
    /// The segment file holding the record (relative path).
    pub file: String,
    /// The record's line number in it (1-based).
    pub line: u64,
    /// The record's chain number.
    pub chain_seq: u64,
    /// What is wrong.
    pub misfit: Misfit,
}

impl std::fmt::Display for MisplacedPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "partition {}/ kept: chainSeq {} ({} line {}) is in it, but {}",
            self.folder, self.chain_seq, self.file, self.line, self.misfit
        )
    }
}
