//! Read-only views of a spool folder for `auditrail spool`: what is spooled, what is
//! still to send, what is damaged, and the records a set-aside file still holds. They
//! change nothing on disk (no repair, no ack), so they are safe while the node runs.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::damage::{self, SetAside};
use super::gone::{self, LostSegments};
use super::{
    ack, cut, first_kept, io, lengths, newest, scan, segment_ids, segment_path, Position,
    SpoolError,
};

/// A spool folder at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct SpoolReport {
    /// The folder.
    pub dir: PathBuf,
    /// The first record the server has not acknowledged (from the `ack` file), as the
    /// spool takes it: when the file cannot be right (`ack_damaged`), the start of the
    /// oldest segment.
    pub ack: Position,
    /// Why the `ack` file is not followed (it names a place the spool never reached,
    /// holds no position, or is missing next to segment files): the next run sends
    /// everything from the oldest segment again.
    pub ack_damaged: Option<String>,
    /// The segment files, in order.
    pub segments: Vec<SegmentReport>,
    /// Set-aside files (damaged bytes, or whole segments set aside by older versions).
    pub set_aside: Vec<SetAside>,
    /// Segment files that went away by hand with events not yet acknowledged: those
    /// the spool found and recorded in `lost.jsonl`, then gaps this inspection sees
    /// that no node reported yet (`found_at` empty).
    pub lost: Vec<LostSegments>,
    /// Lines of `lost.jsonl` that do not read back.
    pub lost_unreadable: Vec<String>,
}

/// One segment file.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentReport {
    /// Segment id.
    pub id: u64,
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Intact records in it.
    pub records: u64,
    /// Intact records at or after the ack position: still to be sent.
    pub pending: u64,
    /// Damaged ranges (skipped when sending, kept in side files).
    pub damaged: Vec<Range>,
    /// Bytes at the end that hold no valid record and are followed by none: a torn
    /// write when this is the newest segment and they are a record cut short (cut at
    /// the next start), damage otherwise.
    pub bad_tail: Option<Range>,
    /// Whether the bad tail can be a record the spool wrote, cut short by a crash
    /// ([`record::could_be_cut_short`](super::record::could_be_cut_short)); when not,
    /// the next start sets it aside as damage, never cuts it.
    pub bad_tail_cut_short: bool,
}

/// A range of bytes in a segment that holds no valid record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    /// Offset of its first byte.
    pub offset: u64,
    /// Its length.
    pub bytes: u64,
    /// What was wrong with the first record there.
    pub reason: String,
}

impl SpoolReport {
    /// Intact records still to be sent, in every segment.
    pub fn pending_events(&self) -> u64 {
        self.segments.iter().map(|s| s.pending).sum()
    }

    /// Bytes of the segment files.
    pub fn segment_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.bytes).sum()
    }

    /// Whether segment files went away with events not yet acknowledged.
    pub fn has_losses(&self) -> bool {
        !self.lost.is_empty() || !self.lost_unreadable.is_empty()
    }

    /// Damaged ranges in the segments (a bad tail included).
    pub fn damaged_ranges(&self) -> usize {
        self.segments
            .iter()
            .map(|s| s.damaged.len() + usize::from(s.bad_tail.is_some()))
            .sum()
    }
}

/// Looks at the spool in `dir` without changing anything.
pub fn inspect(dir: &Path) -> Result<SpoolReport, SpoolError> {
    if !dir.is_dir() {
        return Err(SpoolError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no spool folder here (nothing was ever spooled, or another path)",
            ),
        });
    }
    super::not_a_spool::check(dir)?;
    // The mark before the listing and the ack after it, so that a running node that
    // creates or delivers and deletes segments meanwhile shows no false gap: a segment
    // at or below the mark was created before the listing, and one deleted as
    // delivered before the listing has its ack written before it was deleted.
    let newest = newest::read(dir)
        .map_err(io(&newest::path(dir)))?
        .ok()
        .flatten();
    let ids = segment_ids(dir)?;
    let said = ack::read(dir);
    // Read again after the ack: a running node marks a segment before it appends to
    // it, so an ack naming a segment created since the listing is under this mark.
    let newest_after = newest::read(dir).ok().and_then(Result::ok).flatten();
    let recorded = gone::list(dir).map_err(io(&gone::file_path(dir)))?;
    // The lengths the spool recorded for the segments it finished: one shorter now was
    // cut in place. Unreadable, nothing is known (the node warns when it opens).
    let written = lengths::read(dir)
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let said_at = match &said {
        ack::AckFile::At(pos) => Some(*pos),
        _ => None,
    };
    let mut segments = Vec::new();
    // The ack position's segment, as read, and its intact records before the position.
    let mut at_ack: Option<(ack::AckSegment, u64)> = None;
    for &id in &ids {
        let path = segment_path(dir, id);
        let buf = match auditrail_core::regular_file::read(&path) {
            Ok(b) => b,
            // Delivered and deleted by the running node since the listing.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&path)(e)),
        };
        let mut report = SegmentReport {
            id,
            bytes: buf.len() as u64,
            path,
            records: 0,
            pending: 0,
            damaged: Vec::new(),
            bad_tail: None,
            bad_tail_cut_short: false,
        };
        let ack_offset = said_at.filter(|a| a.segment == id).map(|a| a.offset);
        let mut boundary = ack_offset == Some(buf.len() as u64);
        let mut before = 0;
        for piece in scan::pieces(&buf, 0) {
            boundary |= ack_offset == Some(piece.offset());
            match piece {
                scan::Piece::Record { offset, .. } => {
                    report.records += 1;
                    before += u64::from(ack_offset.is_some_and(|a| offset < a));
                }
                scan::Piece::Damaged {
                    offset,
                    len,
                    reason,
                } => report.damaged.push(Range {
                    offset,
                    bytes: len,
                    reason,
                }),
                scan::Piece::Tail {
                    offset,
                    len,
                    reason,
                    cut_short,
                } => {
                    report.bad_tail_cut_short = cut_short;
                    report.bad_tail = Some(Range {
                        offset,
                        bytes: len,
                        reason,
                    })
                }
            }
        }
        if let Some(a) = ack_offset {
            // A position in the part cut away was reached before the cut (see
            // `Spool::open`).
            let in_cut = written
                .get(&id)
                .filter(|&&w| a > report.bytes && a <= w)
                .copied();
            let len = in_cut.unwrap_or(report.bytes);
            let boundary = boundary || in_cut.is_some();
            at_ack = Some((ack::AckSegment { len, boundary }, before));
        }
        segments.push(report);
    }
    // What the spool makes of the ack file when it opens (see `Spool::open`).
    let (trusted, ack_damaged) = match said {
        ack::AckFile::At(pos) => {
            let seg = at_ack.map(|(s, _)| s);
            match ack::doubt(pos, &ids, newest.max(newest_after), seg) {
                None => (Some(pos), None),
                Some(why) => (
                    None,
                    Some(format!(
                        "it names segment {} offset {}: {why}",
                        pos.segment, pos.offset
                    )),
                ),
            }
        }
        ack::AckFile::Missing if ids.is_empty() => (None, None),
        ack::AckFile::Missing => (None, Some("there is no ack file".to_owned())),
        ack::AckFile::Unreadable(what) => (None, Some(format!("it {what}"))),
    };
    let ack = trusted.unwrap_or_else(|| Position::start_of(ids.first().copied().unwrap_or(0)));
    for s in &mut segments {
        s.pending = match s.id.cmp(&ack.segment) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal if trusted.is_some() => {
                s.records - at_ack.map_or(0, |(_, before)| before)
            }
            _ => s.records,
        };
    }
    // Records the sender had read before their segment went and the server
    // acknowledged after all are not lost (see `gone.rs`).
    let mut lost = recorded.net_lost();
    for s in &segments {
        let Some(&w) = written.get(&s.id).filter(|&&w| w > s.bytes) else {
            continue;
        };
        let c = cut::Cut {
            id: s.id,
            found: s.bytes,
            written: w,
        };
        let bytes = cut::unacked_bytes(&c, ack);
        let reported = recorded
            .lost
            .iter()
            .any(|r| r.first <= s.id && s.id <= r.last);
        if bytes > 0 && !reported {
            lost.push(LostSegments {
                found_at: None,
                first: s.id,
                last: s.id,
                records: None,
                bytes: Some(bytes),
                reason: format!(
                    "{}; found by this inspection, the node reports it when it opens the spool",
                    c.reason()
                ),
                cut_to: Some(s.bytes),
                in_flight: None,
            });
        }
    }
    if let Some(newest) = newest {
        let missing = newest::missing(&ids, first_kept(trusted, &ids, newest), newest);
        lost.extend(gone::unrecorded(missing, &recorded).into_iter().map(|ids| {
            LostSegments {
                found_at: None,
                first: *ids.start(),
                last: *ids.end(),
                records: None,
                bytes: None,
                reason: "missing; found by this inspection, the node reports it when it \
                             opens the spool"
                    .to_owned(),
                cut_to: None,
                in_flight: None,
            }
        }));
    }
    Ok(SpoolReport {
        dir: dir.to_owned(),
        ack,
        ack_damaged,
        segments,
        set_aside: damage::list(dir).map_err(io(dir))?,
        lost,
        lost_unreadable: recorded.unreadable,
    })
}

/// What a file of spool records (a set-aside file, or a segment) still holds.
#[derive(Debug, Clone, Default)]
pub struct Readable {
    /// The intact records' payloads (events' JSON wire forms), in file order.
    pub payloads: Vec<Vec<u8>>,
    /// The ranges that hold no valid record (offsets in the file).
    pub damaged: Vec<Range>,
}

/// Reads the intact records out of a file of spool records, skipping damage the same
/// way the spool does ([`super::file_records`]: the bytes the file held when opened,
/// a file rewritten or cut while read refused with [`SpoolError::Rewritten`] or
/// [`SpoolError::Cut`]). A record whose checksum fails is never returned: its bytes
/// are not the ones that were spooled.
pub fn read_records(path: &Path) -> Result<Readable, SpoolError> {
    let mut out = Readable::default();
    for item in super::file_records::FileRecords::open(path)? {
        match item? {
            super::file_records::Item::Record(payload) => out.payloads.push(payload),
            super::file_records::Item::Damaged(range) => out.damaged.push(range),
        }
    }
    Ok(out)
}
