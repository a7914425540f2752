//! Reading every stored record back (de-duplication rebuild, tools, tests).

use std::borrow::Cow;
use std::fs;
use std::path::Path;

use auditrail_core::{EventId, Timestamp};
use serde::Deserialize;

use crate::integrity::chain::parse_line;

use super::error::StoreError;
use super::handle::{self, lock, Shared};
use super::recovery::{self, segment_files, RecoveryReport};

/// One stored record, as a scan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord<'a> {
    /// The event's id.
    pub id: EventId,
    /// The emitting node.
    pub node: &'a str,
    /// The event's per-node sequence number.
    pub seq: u64,
    /// When the server received it.
    pub server_timestamp: Option<Timestamp>,
    /// Its chain number (chained stores).
    pub chain_seq: Option<u64>,
    /// The segment file it is in.
    pub file: &'a Path,
}

/// What a scan read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Segment files read.
    pub files: u64,
    /// Records handed to the visitor.
    pub records: u64,
    /// Lines that are not readable records (left to `auditrail verify`).
    pub unreadable_lines: u64,
    /// When the scan had to open the store itself: what recovery did first.
    pub recovery: Option<RecoveryReport>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "clientEvent", borrow)]
    client_event: ClientEvent<'a>,
    #[serde(rename = "serverTimestamp", default, borrow)]
    server_timestamp: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ClientEvent<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    node: Cow<'a, str>,
    seq: u64,
}

/// Hands every record stored under `root` to `visit`, segment by segment in the order
/// of their first chain number (so roughly oldest first).
///
/// Only what recovery keeps is seen: when the store is open in this process, the scan
/// holds its writer (no batch is half-written meanwhile); otherwise the scan takes the
/// store's lock and runs recovery first (cutting torn tails and unacknowledged
/// records), exactly as opening the store would. A missing `root` is an empty store.
pub fn scan_records(
    root: &Path,
    mut visit: impl FnMut(&StoredRecord<'_>),
) -> Result<ScanReport, StoreError> {
    if !root.exists() {
        return Ok(ScanReport::default());
    }
    let root = super::target::absolute(root);
    let mut report = ScanReport::default();
    if let Some(cell) = handle::lookup(&root) {
        let _writer = lock(&cell.writer);
        read_all(&root, &mut report, &mut visit)?;
        return Ok(report);
    }
    let lock_file = handle::lock_root(&root)?;
    let chained = detect_chained(&root)?;
    let shared = Shared::new(root.clone(), String::new(), true, chained);
    let recovered = recovery::recover(&root, chained, &shared)?;
    report.recovery = Some(recovered.report);
    read_all(&root, &mut report, &mut visit)?;
    drop(lock_file);
    Ok(report)
}

fn detect_chained(root: &Path) -> Result<bool, StoreError> {
    for (_, path) in segment_files(root)? {
        let data = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        if let Some(line) = data.split(|b| *b == b'\n').next().filter(|l| !l.is_empty()) {
            return Ok(parse_line(line).is_ok() || !line.ends_with(b"}"));
        }
    }
    Ok(true)
}

fn read_all(
    root: &Path,
    report: &mut ScanReport,
    visit: &mut impl FnMut(&StoredRecord<'_>),
) -> Result<(), StoreError> {
    for (_, path) in segment_files(root)? {
        let data = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        report.files += 1;
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let chain_seq = parse_line(line).ok().map(|p| p.link.seq);
            let parsed: Option<Line<'_>> = serde_json::from_slice(line).ok();
            let Some(rec) = parsed.and_then(|l| {
                let id: EventId = l.client_event.id.parse().ok()?;
                let ts = l.server_timestamp.and_then(|t| t.parse().ok());
                Some((id, l.client_event.node, l.client_event.seq, ts))
            }) else {
                report.unreadable_lines += 1;
                continue;
            };
            report.records += 1;
            visit(&StoredRecord {
                id: rec.0,
                node: &rec.1,
                seq: rec.2,
                server_timestamp: rec.3,
                chain_seq,
                file: &path,
            });
        }
    }
    Ok(())
}
