//! Segment files cut in place: still at their path, the same file, but shorter than
//! what the spool wrote to them (`truncate -s`, `: > file`, logrotate's
//! `copytruncate`).
//!
//! The events after the cut that the server had not acknowledged are lost. Like a
//! segment that went away (`gone.rs`), that is logged at error level naming the file,
//! counted (`lost_segments`, `lost_records`, `lost_bytes`) and written to
//! `lost.jsonl`; the intact records before the cut are still sent, and nothing is
//! appended after a cut (the next append starts a new segment).
//!
//! Found while the spool runs by the appender (before each append to the head, and
//! after it: records written to a head cut meanwhile are cut back off it and written
//! again, see `Spool::append`) and
//! the reader (before it reads a segment), against the lengths the spool wrote; at
//! open, against the `lengths` record of the segments it finished (`lengths.rs`). A
//! torn tail after a crash is not a cut: the segment being written when the crash came
//! has no recorded length, and the repair at open cuts its torn write.

use std::fs::File;
use std::path::Path;

use auditrail_core::Timestamp;

use super::gone::LostSegments;
use super::state::State;
use super::{lengths, scan, segment_path, Position, Spool};

/// One segment found cut at open: it holds `found` bytes, `written` were recorded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cut {
    pub id: u64,
    pub found: u64,
    pub written: u64,
}

impl Cut {
    /// Why, as the log, `lost.jsonl` and `auditrail spool inspect` say it.
    pub(super) fn reason(&self) -> String {
        auditrail_core::durable::NotAt::Shorter {
            expected: self.written,
            found: self.found,
        }
        .to_string()
    }
}

impl Spool {
    /// Whether `file`, open on segment `id`, is shorter than the spool wrote it; if so
    /// the cut is reported (see [`Self::cut_short`]) and `true` is returned.
    pub(super) fn check_cut(&self, id: u64, file: &File) -> bool {
        // The length is read under the lock: appends write and count their bytes
        // under it, so it cannot grow between the two. Read before the lock, an append
        // finishing in between made a growing head look cut, and its unsent records
        // were reported lost and skipped.
        let mut st = self.lock();
        let Ok(found) = file.metadata().map(|m| m.len()) else {
            return false;
        };
        if st.len_of(id).is_none_or(|written| found >= written) {
            return false;
        }
        self.cut_short(&mut st, id, found);
        true
    }

    /// Segment `id` holds only `found` bytes, fewer than the spool wrote: its length
    /// becomes `found` (the intact records before the cut are still sent), what was
    /// not acknowledged after the cut is reported lost, and the new length is recorded
    /// (so that the next start does not report it again).
    pub(super) fn cut_short(&self, st: &mut State, id: u64, found: u64) {
        let Some(written) = st.len_of(id) else {
            return;
        };
        let kept = intact_records(&segment_path(self.dir(), id), found);
        let Some(gone) = st.cut(id, found, kept) else {
            return;
        };
        self.metrics.set_spool_bytes(st.total_bytes());
        let cut = Cut { id, found, written };
        self.report_cut(&cut, Some(gone.records), gone.bytes);
        self.record_lengths(st);
    }

    /// Records the lengths of the segments the spool no longer appends to (see
    /// `lengths.rs`), only in a folder it holds. A failure is logged: only a later
    /// cut of them goes unnoticed.
    pub(super) fn record_lengths(&self, st: &State) {
        let lengths = st.finished_lengths();
        let written = self.in_held_folder("lengths", |dir| lengths::write(dir, &lengths));
        if let Some(Err(e)) = written {
            tracing::warn!(path = %lengths::path(self.dir()).display(), error = %e, "cannot record the lengths of the spool's segments: a segment cut in place (truncated by hand) before the next start would not be reported");
        }
    }

    /// Reports a segment cut in place: what went after the cut and was not
    /// acknowledged (`records` where known, `bytes`), logged, counted and recorded in
    /// `lost.jsonl`. Only a warning when nothing unacknowledged was there.
    pub(super) fn report_cut(&self, cut: &Cut, records: Option<u64>, bytes: u64) {
        let dir = self.dir();
        let path = segment_path(dir, cut.id);
        let reason = cut.reason();
        if bytes == 0 {
            tracing::warn!(
                segment = %path.display(),
                %reason,
                "a spool segment was cut in place (truncated by hand?); what it held after \
                 the cut was already delivered; nothing is appended to it any more"
            );
            return;
        }
        let records_text = records.map_or_else(|| "unknown".to_owned(), |r| r.to_string());
        tracing::error!(
            segment = %path.display(),
            %reason,
            lost_records = %records_text,
            lost_bytes = bytes,
            "a spool segment was cut in place (truncated by hand, or by a log rotation's \
             copytruncate?): the records it held after the cut that the server had not \
             acknowledged are LOST from this node's spool (those the sender had already \
             read may still arrive); the records before the cut are sent, nothing is \
             appended after the cut; recorded in lost.jsonl"
        );
        self.metrics.segments_lost(1, records.unwrap_or(0), bytes);
        self.keep_lost(&LostSegments {
            found_at: Some(Timestamp::now()),
            first: cut.id,
            last: cut.id,
            records,
            bytes: Some(bytes),
            reason,
            cut_to: Some(cut.found),
            in_flight: None,
        });
    }
}

/// Intact records in the first `len` bytes of the file at `path` (0 when it cannot be
/// read: then every record of the segment counts as lost, never fewer).
fn intact_records(path: &Path, len: u64) -> u64 {
    let Ok(buf) = auditrail_core::regular_file::read(path) else {
        return 0;
    };
    let buf = buf.get(..len as usize).unwrap_or(&buf);
    scan::pieces(buf, 0)
        .filter(|p| matches!(p, scan::Piece::Record { .. }))
        .count() as u64
}

/// Bytes of segment `cut` that were lost and not acknowledged, for the ack position
/// `ack`.
pub(super) fn unacked_bytes(cut: &Cut, ack: Position) -> u64 {
    let from = match cut.id.cmp(&ack.segment) {
        std::cmp::Ordering::Less => return 0,
        std::cmp::Ordering::Equal => ack.offset.max(cut.found),
        std::cmp::Ordering::Greater => cut.found,
    };
    cut.written.saturating_sub(from)
}
