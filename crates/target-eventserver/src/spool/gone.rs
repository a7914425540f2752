//! Segment files that went away by hand: deleted, moved away, or replaced by another
//! file at their path.
//!
//! What they held and was not acknowledged is lost. That is never taken as "nothing
//! to send" nor as an I/O error that stops delivery: the segment is forgotten, the
//! loss is logged at error level naming the file, counted (`lost_segments`,
//! `lost_records`, `lost_bytes`), written as one line to `lost.jsonl` in the spool
//! folder (which `auditrail spool inspect` lists, like set-aside files, until the
//! operator removes it), and delivery goes on with the next segment.
//!
//! Records of it the sender had already read are in its hands, not lost: the line
//! counts them among `records` and says how many (`inFlight`), and when the server
//! acknowledges them a later line says so (`acknowledged`, [`AcknowledgedAfterAll`]:
//! the file is only appended to). What is lost is what the lines say minus what the
//! later lines say was acknowledged ([`Recorded::net_lost`]). The counters (which only
//! grow) count the records not read at once, and those in hand the server never
//! acknowledged when the sender stops (`Spool::close`); until then those count as not
//! delivered yet (`Spool::undelivered_events`: a `send` waits for them). A record in
//! hand when the process crashes stays counted lost in the file: it is, the spool no
//! longer has it.
//!
//! Found by the appender (the head segment is checked before each append, so nothing
//! is written into a file nobody finds any more, and again after the write, so that
//! records written into a file that went away meanwhile are written again; see
//! `Spool::append`), by the reader (a segment it opens
//! is missing or is another file), and at open (a segment between the ack position and
//! the `newest` mark (`newest.rs`) is missing). A segment cut in place is reported the
//! same way (see `cut.rs`).

use std::fs::File;
use std::io;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use auditrail_core::Timestamp;
use serde::{Deserialize, Serialize};

use super::state::{AckedAfterGone, FileId, State};
use super::{segment_path, Position, Spool};

const FILE: &str = "lost.jsonl";

/// Segment files found gone with records not yet acknowledged: one line of
/// `lost.jsonl`, or a gap `auditrail spool inspect` sees that no node reported yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LostSegments {
    /// When the spool found them gone (`None`: found by the inspection itself).
    pub found_at: Option<Timestamp>,
    /// The first segment id.
    pub first: u64,
    /// The last segment id (the same as `first` for one segment).
    pub last: u64,
    /// Records not yet acknowledged that were in them, where known (a segment found
    /// missing at start was never read: unknown).
    pub records: Option<u64>,
    /// Bytes of those records, likewise.
    pub bytes: Option<u64>,
    /// How they went (the path is gone, another file is at it, it was cut, ...).
    pub reason: String,
    /// For a segment cut in place (truncated by hand, see `lengths.rs`), which is
    /// still there: the bytes it holds now (`bytes` then counts those that went).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_to: Option<u64>,
    /// Of `records`, those the sender had already read and was sending when the
    /// segment went: lost only if no later line says the server acknowledged them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u64>,
}

/// A line of `lost.jsonl` saying that records of a segment an earlier line counted as
/// lost, which the sender had read before the segment went, were acknowledged by the
/// server after all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcknowledgedAfterAll {
    /// When the server acknowledged them.
    pub acknowledged_at: Timestamp,
    /// The segment id.
    pub segment: u64,
    /// How many records.
    pub acknowledged: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// `lost.jsonl` in spool folder `dir`.
pub(crate) fn file_path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// What `lost.jsonl` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Its lines of losses, in order.
    pub lost: Vec<LostSegments>,
    /// Its lines saying that records in flight were acknowledged after all, in order.
    pub acknowledged: Vec<AcknowledgedAfterAll>,
    /// Lines that do not read back (cut short by a crash while written), as text.
    pub unreadable: Vec<String>,
}

/// The losses recorded in `lost.jsonl` of spool folder `dir` (none without the file).
pub fn list(dir: &Path) -> io::Result<Recorded> {
    let text = match auditrail_core::regular_file::read_to_string(&file_path(dir)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recorded::default()),
        Err(e) => return Err(e),
    };
    let mut out = Recorded::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(lost) = serde_json::from_str(line) {
            out.lost.push(lost);
        } else if let Ok(acked) = serde_json::from_str(line) {
            out.acknowledged.push(acked);
        } else {
            out.unreadable.push(line.to_owned());
        }
    }
    Ok(out)
}

impl Recorded {
    /// The losses that stand: each line of a loss less the records of it that later
    /// lines say were acknowledged after all (at most those it said were in flight);
    /// a line left with nothing lost is left out.
    pub fn net_lost(&self) -> Vec<LostSegments> {
        let mut acked: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
        for a in &self.acknowledged {
            let e = acked.entry(a.segment).or_default();
            e.0 = e.0.saturating_add(a.acknowledged);
            e.1 = e.1.saturating_add(a.bytes);
        }
        let mut out = Vec::new();
        for l in &self.lost {
            let mut l = l.clone();
            if let (Some(in_flight), true) = (l.in_flight, l.first == l.last) {
                let (records, bytes) = acked.get(&l.first).copied().unwrap_or_default();
                let records = records.min(in_flight);
                if let Some(e) = acked.get_mut(&l.first) {
                    // A later loss line of the same segment does not take them again.
                    *e = (0, 0);
                }
                l.in_flight = Some(in_flight - records);
                l.records = l.records.map(|r| r.saturating_sub(records));
                l.bytes = l.bytes.map(|b| b.saturating_sub(bytes));
                if l.records == Some(0) {
                    continue;
                }
            }
            out.push(l);
        }
        out
    }
}

/// The parts of the `missing` ranges that no line of `lost.jsonl` covers yet: a gap
/// reported once (and recorded) is not reported again at the next start while the
/// ack position has not passed it yet (segment ids are never used twice).
pub(crate) fn unrecorded(
    missing: Vec<RangeInclusive<u64>>,
    recorded: &Recorded,
) -> Vec<RangeInclusive<u64>> {
    // A line of a segment cut in place says nothing of its file going away later.
    let went = recorded.lost.iter().filter(|r| r.cut_to.is_none());
    went.fold(missing, |ranges, r| {
        ranges
            .into_iter()
            .flat_map(|m| minus(m, r.first, r.last))
            .collect()
    })
}

/// `m` without the ids `first..=last`.
fn minus(m: RangeInclusive<u64>, first: u64, last: u64) -> Vec<RangeInclusive<u64>> {
    let (start, end) = (*m.start(), *m.end());
    if first > last || last < start || first > end {
        return vec![m];
    }
    let mut out = Vec::new();
    if first > start {
        out.push(start..=first - 1);
    }
    if last < end {
        out.push(last + 1..=end);
    }
    out
}

impl Spool {
    /// Why `file`, opened at segment `id`'s path, is not that segment's file (another
    /// file was put at its path), or `None` when it is, or the spool no longer knows
    /// the segment.
    pub(super) fn not_the_segment(&self, id: u64, file: &File) -> Option<&'static str> {
        let known = self.lock().file_of(id)?;
        match file.metadata() {
            Ok(m) if FileId::of(&m) == known => None,
            Ok(_) => Some("another file is at its path"),
            Err(_) => Some("the file at its path cannot be read back"),
        }
    }

    /// Segment `id`'s file is gone for `reason`: forgets it and reports what it held
    /// that was not acknowledged. Nothing when the spool already forgot it.
    pub(super) fn segment_gone(&self, id: u64, reason: &str) {
        let mut st = self.lock();
        self.forget_gone(&mut st, id, reason);
    }

    /// [`Self::segment_gone`] with the state already locked (by an append).
    pub(super) fn forget_gone(&self, st: &mut State, id: u64, reason: &str) {
        let Some(gone) = st.forget_gone(id) else {
            return;
        };
        if !gone.head {
            // Its recorded length goes now, not at the next roll: a crash before it
            // would leave whatever file is at its path compared with that length at
            // the next start, and a shorter one reported as cut by hand.
            self.record_lengths(st);
        }
        let path = segment_path(self.dir(), id);
        self.metrics.set_spool_bytes(st.total_bytes());
        let next = if gone.head {
            "the next append starts a new segment"
        } else {
            "delivery goes on with the next segment"
        };
        if gone.records == 0 && gone.bytes == 0 {
            tracing::warn!(
                segment = %path.display(),
                %reason,
                "a spool segment went away (deleted, moved or replaced by hand?); it held \
                 nothing that was not yet delivered; {next}"
            );
            return;
        }
        let lost_records = gone.records - gone.in_hand;
        let lost_bytes = gone.bytes.saturating_sub(gone.in_hand_bytes);
        if lost_records > 0 {
            tracing::error!(
                segment = %path.display(),
                %reason,
                lost_records,
                lost_bytes,
                in_flight = gone.in_hand,
                "a spool segment went away (deleted, moved or replaced by hand?): the \
                 records it held that the sender had not read yet are LOST from this \
                 node's spool (those it had read, in_flight, are being sent: lost only if \
                 the server does not acknowledge them before the sender stops); {next}"
            );
            self.metrics.segments_lost(1, lost_records, lost_bytes);
        } else {
            tracing::warn!(
                segment = %path.display(),
                %reason,
                in_flight = gone.in_hand,
                "a spool segment went away (deleted, moved or replaced by hand?): the \
                 sender had already read every record of it not yet acknowledged and is \
                 sending them: they are lost only if the server does not acknowledge them \
                 before the sender stops (recorded in lost.jsonl until it does); {next}"
            );
        }
        self.keep_lost(&LostSegments {
            found_at: Some(Timestamp::now()),
            first: id,
            last: id,
            records: Some(gone.records),
            bytes: Some(gone.bytes),
            reason: reason.to_owned(),
            cut_to: None,
            in_flight: (gone.in_hand > 0).then_some(gone.in_hand),
        });
    }

    /// The records of segments that went away that the sender had read (see
    /// `forget_gone`) and the server acknowledged since, by `acked`: said, and
    /// recorded in `lost.jsonl` after the line that counted them.
    pub(super) fn acknowledged_after_gone(&self, acked: &[AckedAfterGone]) {
        for a in acked {
            tracing::info!(
                segment = %segment_path(self.dir(), a.segment).display(),
                acknowledged = a.records,
                all = a.all,
                "events read from a spool segment before it went away were acknowledged \
                 by the server: they are not lost (recorded in lost.jsonl)"
            );
            self.keep_line(&AcknowledgedAfterAll {
                acknowledged_at: Timestamp::now(),
                segment: a.segment,
                acknowledged: a.records,
                bytes: a.bytes,
            });
        }
    }

    /// The sender stopped (the spool is closed): what it had read from segments that
    /// went away and the server never acknowledged is lost (their `lost.jsonl` lines
    /// count it already). Logged and counted.
    pub(super) fn give_up_in_hand(&self, st: &mut State) {
        let (segments, records, bytes) = st.give_up_in_hand_of_gone();
        if records == 0 {
            return;
        }
        tracing::error!(
            spool = %self.dir().display(),
            lost_records = records,
            lost_bytes = bytes,
            "events the sender had read from spool segments that went away were not \
             acknowledged by the server before it stopped: they are LOST (the spool no \
             longer has them; recorded in lost.jsonl)"
        );
        self.metrics.segments_lost(segments, records, bytes);
    }

    /// Reports the segments found missing at open (ids between the ack position's
    /// segment and the `newest` mark that have no file) that were not reported before:
    /// logged, counted and recorded.
    pub(super) fn report_missing(&self, missing: Vec<RangeInclusive<u64>>, ack: Position) {
        let dir = self.dir();
        let recorded = match list(dir) {
            Ok(r) => r,
            Err(e) => {
                // Then every gap is reported (again): better twice than not at all.
                tracing::warn!(path = %file_path(dir).display(), error = %e, "cannot read the spool's record of lost segments");
                Recorded::default()
            }
        };
        for ids in unrecorded(missing, &recorded) {
            let (first, last) = (*ids.start(), *ids.end());
            let count = last - first + 1;
            let partly_sent = if first == ack.segment && ack.offset > 0 {
                format!(
                    " (the first one was acknowledged up to byte {}: what it held after that \
                     is lost, possibly nothing)",
                    ack.offset
                )
            } else {
                String::new()
            };
            tracing::error!(
                first = %segment_path(dir, first).display(),
                last = %segment_path(dir, last).display(),
                segments = count,
                "spool segment file(s) missing (deleted or moved by hand, or lost with the \
                 disk): the events spooled in them that the server had not acknowledged are \
                 LOST{partly_sent}; delivery goes on with the next segment; recorded in {FILE}"
            );
            self.metrics.segments_lost(count, 0, 0);
            self.keep_lost(&LostSegments {
                found_at: Some(Timestamp::now()),
                first,
                last,
                records: None,
                bytes: None,
                reason: format!("missing at start{partly_sent}"),
                cut_to: None,
                in_flight: None,
            });
        }
    }

    /// Appends `lost` to `lost.jsonl`, durably, only in a folder the spool holds. A
    /// failure is logged: the loss itself was already logged and counted.
    pub(super) fn keep_lost(&self, lost: &LostSegments) {
        self.keep_line(lost);
    }

    /// Appends one line to `lost.jsonl` (see [`Self::keep_lost`]).
    fn keep_line(&self, value: &impl Serialize) {
        let path = file_path(self.dir());
        let mut line = serde_json::to_vec(value).unwrap_or_default();
        line.push(b'\n');
        let kept = self.in_held_folder(FILE, |dir| {
            // Never making the folder again: one removed since the check would hold
            // no lock (`folder_gone.rs` takes it back at the next append).
            auditrail_core::jsonl::append_in_folder(&file_path(dir), &line, true)
        });
        if let Some(Err(e)) = kept {
            tracing::error!(
                path = %path.display(),
                error = %e,
                "cannot record the lost spool segments in the spool folder (see the error \
                 logged just before for what was lost)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost(first: u64, last: u64) -> LostSegments {
        LostSegments {
            found_at: None,
            first,
            last,
            records: None,
            bytes: None,
            reason: String::new(),
            cut_to: None,
            in_flight: None,
        }
    }

    #[test]
    fn recorded_gaps_are_not_reported_again() {
        let recorded = Recorded {
            lost: vec![lost(3, 3), lost(6, 7)],
            acknowledged: Vec::new(),
            unreadable: vec!["{\"first".into()],
        };
        assert_eq!(
            unrecorded(vec![2..=8, 10..=10], &recorded),
            vec![2..=2, 4..=5, 8..=8, 10..=10]
        );
        assert_eq!(unrecorded(vec![6..=7], &recorded), Vec::new());
    }
}
