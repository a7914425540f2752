//! Reading spooled records in order, ahead of the ack position, skipping damage.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use super::record::{self, Decoded};
use super::{io, segment_path, Position, Spool, SpoolError};

/// One batch of records read from the spool.
#[derive(Debug, Clone)]
pub struct SpooledBatch {
    /// Position of the first record (or of the damaged bytes skipped before it).
    pub start: Position,
    /// Position after the last record. It may lie past `start` with no payloads: the
    /// reader skipped damaged bytes or moved past a finished segment, and that
    /// position may be acknowledged like any other.
    pub end: Position,
    /// Each record's payload (an event's JSON wire form).
    pub payloads: Vec<Vec<u8>>,
    /// Position after each record (`ends[i]` closes `payloads[i]`): acknowledging it
    /// settles the batch's first `i + 1` events (a batch the server refuses in part
    /// is settled a part at a time).
    pub ends: Vec<Position>,
}

/// Reads records in order, ahead of the ack position.
#[derive(Debug)]
pub struct SpoolReader {
    spool: Arc<Spool>,
    pos: Position,
    file: Option<(u64, File)>,
}

/// What one read in a segment found.
enum SegmentRead {
    /// Records, in order (possibly none: the budget is spent or the bytes end), each
    /// with the position after it.
    Records(Vec<(Vec<u8>, Position)>),
    /// Damaged bytes start at the reader's position.
    Damage,
}

impl SpoolReader {
    pub(super) fn new(spool: Arc<Spool>, pos: Position) -> SpoolReader {
        SpoolReader {
            spool,
            pos,
            file: None,
        }
    }

    /// Where the next read starts.
    pub fn position(&self) -> Position {
        self.pos
    }

    /// Reads up to `max_events` records / about `max_bytes` payload bytes (at least one
    /// record) that are already appended. Empty when there is nothing new. Damaged
    /// bytes on the way are skipped (and kept aside, see [`super::damage`]).
    pub fn read_batch(
        &mut self,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<SpooledBatch, SpoolError> {
        let start = self.pos;
        let mut payloads = Vec::new();
        let mut ends = Vec::new();
        let mut bytes = 0usize;
        loop {
            let Some((seg_id, seg_end, is_head)) = self.spool.lock().segment_at(self.pos) else {
                break;
            };
            if seg_id != self.pos.segment {
                self.pos = Position::start_of(seg_id);
                self.file = None;
            }
            if self.pos.offset >= seg_end {
                if is_head {
                    // Read to the end of what is appended: the file is let go (opened
                    // again for the next records). Held open, a segment the spool
                    // deletes once it is delivered keeps its room on the disk (the
                    // blocks of an open file are freed only when it is closed), and
                    // a spool whose disk is full could not free it (see the module
                    // docs of `spool`).
                    self.file = None;
                    break;
                }
                // Move on to the next segment.
                self.pos = Position::start_of(seg_id + 1);
                self.file = None;
                continue;
            }
            if !self.open(seg_id)? {
                // Gone by hand (reported and counted): go on with the next segment.
                self.pos = Position::start_of(seg_id + 1);
                self.file = None;
                continue;
            }
            if self
                .file
                .as_ref()
                .is_some_and(|(_, file)| self.spool.check_cut(seg_id, file))
            {
                // Cut in place by hand (reported and counted): read what is left.
                continue;
            }
            let budget_events = max_events - payloads.len();
            let budget_bytes = max_bytes.saturating_sub(bytes).max(1);
            match self.read_segment(seg_id, seg_end, budget_events, budget_bytes)? {
                SegmentRead::Records(got) => {
                    // In hand from now on: a segment that goes away does not lose them
                    // (see `gone.rs`). Told per segment, before the next one is opened
                    // (which may find the folder gone and forget this one).
                    self.spool
                        .lock()
                        .handed_out(got.iter().map(|(_, end)| *end));
                    for (payload, end) in got {
                        bytes += payload.len();
                        payloads.push(payload);
                        ends.push(end);
                    }
                }
                SegmentRead::Damage => {
                    let Some((_, file)) = self.file.as_mut() else {
                        break;
                    };
                    let end = self.spool.skip_damage(file, self.pos, seg_end)?;
                    self.pos.offset = end.max(self.pos.offset + 1);
                }
            }
            if payloads.len() >= max_events || bytes >= max_bytes {
                break;
            }
        }
        Ok(SpooledBatch {
            start,
            end: self.pos,
            payloads,
            ends,
        })
    }

    /// Opens segment `seg_id` (kept open while the reader is in it). `false` when its
    /// file is gone (deleted or moved away) or another file is at its path: that is
    /// damage, not an I/O error, and is reported by the spool ([`super::gone`]).
    fn open(&mut self, seg_id: u64) -> Result<bool, SpoolError> {
        if self.file.as_ref().is_some_and(|(id, _)| *id == seg_id) {
            return Ok(true);
        }
        self.file = None;
        let path = segment_path(self.spool.dir(), seg_id);
        let f =
            match auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), &path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Gone with its folder? The folder is taken back first, so that the
                    // loss is recorded in it (see `folder_gone.rs`).
                    self.spool.retake_folder_now()?;
                    self.spool.segment_gone(seg_id, "its path is gone");
                    return Ok(false);
                }
                Err(e) => return Err(io(&path)(e)),
            };
        if let Some(reason) = self.spool.not_the_segment(seg_id, &f) {
            self.spool.segment_gone(seg_id, reason);
            return Ok(false);
        }
        self.file = Some((seg_id, f));
        Ok(true)
    }

    fn file(&mut self, seg_id: u64) -> Result<&mut File, SpoolError> {
        match &mut self.file {
            Some((id, f)) if *id == seg_id => Ok(f),
            _ => Err(SpoolError::Io {
                path: segment_path(self.spool.dir(), seg_id),
                source: std::io::Error::other("segment not open"),
            }),
        }
    }

    fn read_segment(
        &mut self,
        seg_id: u64,
        seg_end: u64,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<SegmentRead, SpoolError> {
        let path = segment_path(self.spool.dir(), seg_id);
        let offset = self.pos.offset;
        let file = self.file(seg_id)?;
        // Read a window of the published bytes; records never change once published.
        // At most 1 MiB per read; the caller reads again for a larger batch.
        let window = (max_bytes as u64).clamp(64 * 1024, 1 << 20) + 8 * 1024;
        let want = (seg_end - offset).min(window);
        let mut buf = vec![0u8; want as usize];
        file.seek(SeekFrom::Start(offset)).map_err(io(&path))?;
        file.read_exact(&mut buf).map_err(io(&path))?;
        let mut out = Vec::new();
        let mut at = 0usize;
        let mut bytes = 0usize;
        while out.len() < max_events && bytes < max_bytes {
            match record::decode(&buf, at) {
                Decoded::Record { payload, next } => {
                    bytes += payload.len();
                    let end = Position {
                        segment: seg_id,
                        offset: offset + next as u64,
                    };
                    out.push((payload.to_vec(), end));
                    at = next;
                }
                Decoded::Incomplete if at > 0 => break, // the next read starts here
                Decoded::Incomplete => {
                    // One record larger than the window: read exactly it, unless its
                    // length runs past the published bytes (then it is damage).
                    let len = buf
                        .get(..record::HEADER)
                        .map(|h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as u64);
                    match len {
                        Some(len)
                            if offset + record::HEADER as u64 + len <= seg_end
                                && buf.len() < record::HEADER + len as usize =>
                        {
                            let mut whole = vec![0u8; record::HEADER + len as usize];
                            file.seek(SeekFrom::Start(offset)).map_err(io(&path))?;
                            file.read_exact(&mut whole).map_err(io(&path))?;
                            buf = whole;
                        }
                        _ => return Ok(SegmentRead::Damage),
                    }
                }
                Decoded::Bad { .. } if out.is_empty() => return Ok(SegmentRead::Damage),
                // Hand out the good records first; the next read meets the damage.
                Decoded::Bad { .. } => break,
            }
        }
        self.pos.offset += at as u64;
        Ok(SegmentRead::Records(out))
    }
}
