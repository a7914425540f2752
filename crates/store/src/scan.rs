//! Reading every record of a store once, as recovery leaves it (the de-duplication
//! rebuild): the walker and the reader, under the store's lock.

use std::path::Path;

use crate::error::StoreError;
use crate::handle::Shared;
use crate::progress::ReadProgress;
use crate::read::SegmentReader;
use crate::recovery::{self, RecoveryReport};
use crate::root::lock_root;
use crate::stored_event::StoredEvent;
use crate::walk::{StoreFile, StoreFiles};

/// What a scan read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Segment files read.
    pub files: u64,
    /// Records handed to the visitor.
    pub records: u64,
    /// Lines that are no readable stored event, not handed out (`auditrail verify`
    /// names each; queries leave them out too).
    pub unreadable_lines: u64,
    /// When the scan had to open the store itself: what recovery did first.
    pub recovery: Option<RecoveryReport>,
}

/// Hands every record of the **closed** store at `root` to `visit` with its segment
/// file, segment by segment in chain order (so roughly oldest first), read as the
/// stored event it holds ([`StoredEvent::read`]: a line that is no readable stored
/// event, which queries leave out and `auditrail verify` names, is not handed out but
/// counted in [`ScanReport::unreadable_lines`]).
///
/// Only what recovery keeps is seen: the scan takes the store's lock and runs recovery
/// first (cutting torn tails and unacknowledged records), exactly as opening the store
/// would. A store open by a writer (in this process or another) is refused with
/// [`StoreError::Locked`]: read an open store through its
/// [`StoreHandle::scan_records`](crate::StoreHandle::scan_records), or without the
/// lock through [`StoreFiles`] and [`SegmentReader`]. A missing `root` is an empty
/// store.
pub fn scan_records(
    root: &Path,
    mut visit: impl FnMut(&StoreFile, &StoredEvent<'_>),
) -> Result<ScanReport, StoreError> {
    if !root.exists() {
        return Ok(ScanReport::default());
    }
    let root = crate::target::absolute(root);
    let mut report = ScanReport::default();
    let (lock_file, recovered) = lock_and_recover(&root)?;
    report.recovery = Some(recovered);
    read_all(&root, &mut report, &mut visit)?;
    drop(lock_file);
    Ok(report)
}

/// Runs the crash recovery of the **closed** store at `root` under its lock, as opening
/// it would (torn tails and the records of an interrupted, never acknowledged batch
/// cut and kept aside), and changes nothing else. For offline commands that read the
/// store's state to sign it (`store accept`): what they sign must be what the server
/// will find, not a crash's artefacts that its next start cuts. A missing `root` is
/// an empty store.
pub fn recover_closed(root: &Path) -> Result<Option<RecoveryReport>, StoreError> {
    if !root.exists() {
        return Ok(None);
    }
    let (lock_file, recovered) = lock_and_recover(&crate::target::absolute(root))?;
    drop(lock_file);
    Ok(Some(recovered))
}

/// Takes the lock of the closed store at `root` (absolute) and runs its crash recovery,
/// as opening it would; the lock is held until the returned file is dropped.
fn lock_and_recover(root: &Path) -> Result<(std::fs::File, RecoveryReport), StoreError> {
    let lock_file = lock_root(root)?;
    let walked = StoreFiles::walk(root)?;
    let chained = detect_chained(&walked)?;
    let shared = Shared::new(root.to_owned(), String::new(), true, chained);
    let recovered = recovery::recover(root, chained, &shared, walked, &ReadProgress::new())?;
    Ok((lock_file, recovered.report))
}

/// Whether the store's records carry chain links, judged by the first line of its
/// first segment that is a sealed line or a readable stored event without chain fields
/// (an empty store, or one whose first lines are neither, is chained, the default). A
/// damaged first line is passed over: a line with malformed chain fields is neither,
/// and once made a chained store look unchained.
fn detect_chained(files: &StoreFiles) -> Result<bool, StoreError> {
    for segment in files.segments() {
        let mut reader = SegmentReader::open(&segment.path)?;
        if reader.next_chunk()? {
            for line in reader.chunk().lines().filter(|l| !l.bytes.is_empty()) {
                if line.sealed().is_ok() {
                    return Ok(true);
                }
                if line.stored_event().is_ok_and(|r| r.link.is_none()) {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
    }
    Ok(true)
}

/// Reads every record under `root` (the caller holds the writer or the lock).
pub(crate) fn read_all(
    root: &Path,
    report: &mut ScanReport,
    visit: &mut impl FnMut(&StoreFile, &StoredEvent<'_>),
) -> Result<(), StoreError> {
    read_all_ends(
        root,
        report,
        &ReadProgress::new(),
        &mut |file, record, _| visit(file, record),
    )
}

/// [`read_all`], handing each record's place in its file too (from its line's first
/// byte to the offset after its `\n`).
pub(crate) fn read_all_ends(
    root: &Path,
    report: &mut ScanReport,
    progress: &ReadProgress,
    visit: &mut impl FnMut(&StoreFile, &StoredEvent<'_>, std::ops::Range<u64>),
) -> Result<(), StoreError> {
    let files = StoreFiles::walk_watched(root, progress)?;
    for segment in files.segments() {
        // Between two files: a scan changes nothing, it can end anywhere.
        progress.check(root)?;
        report.files += 1;
        SegmentReader::open(&segment.path)?.for_each_line(|line| {
            if line.bytes.is_empty() {
                return;
            }
            // The one judgment of what a line holds (queries and verify make it too):
            // a line they leave out is no record here either, so that the server's
            // de-duplication never takes its id for a stored event.
            match line.stored_event() {
                Ok(record) => {
                    report.records += 1;
                    progress.record_read();
                    visit(segment, &record, line.offset..line.end());
                }
                Err(_) => report.unreadable_lines += 1,
            }
        })?;
        progress.file_read(segment.len);
    }
    Ok(())
}
