//! The one reader of the records of a spool file as a tool reads it (a segment of a
//! node's spool, maybe running, or a set-aside `*.seg.corrupt` file: `auditrail spool
//! resend`): the bytes the file held when it was opened, read a chunk at a time, each
//! read checked against what the file held ([`auditrail_core::rewritten`], the check
//! `auditrail send --stdin` makes), and walked as the spool walks a segment
//! ([`super::scan`]'s record decoding and resynchronisation).
//!
//! Why checked: a segment given while its node runs can be cut and written again past
//! the read position (the node restarted: the repair at open cuts a torn tail, and the
//! next records are appended there). Read on from the same offset, the new records
//! were taken as if they followed the old ones, and the records between were gone
//! without a word. Now the read stops there with [`SpoolError::Rewritten`] (or
//! [`SpoolError::Cut`] for a file found shorter than at the open), naming the file and
//! the byte, and nothing of what followed is used.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::Read;
use std::path::{Path, PathBuf};

use auditrail_core::rewritten::{Baseline, Checked, Rewritten};

use super::inspect::Range;
use super::record::{self, Decoded};
use super::{io, SpoolError};

/// The bytes of one read (and one check): 1 MiB, 16 of the check's 64 KiB chunks,
/// so that a search past long damage looks again at few places per read.
const READ_BYTES: usize = 1 << 20;

/// What a spool file holds, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An intact record's payload (an event's JSON wire form).
    Record(Vec<u8>),
    /// Bytes that hold no valid record (offsets in the file).
    Damaged(Range),
}

/// The records of a spool file, read as the module docs say. Yields an error once
/// (the file could not be read, or was rewritten or cut while read), then nothing.
#[derive(Debug)]
pub struct FileRecords {
    path: PathBuf,
    reader: std::io::Take<Checked>,
    /// The file's length at the open: the bytes read.
    len: u64,
    /// Bytes read, not yet walked (a record that continues in the next chunk).
    carry: Vec<u8>,
    /// The file offset of `carry[0]`.
    base: u64,
    /// Where in `carry` the search for the record after damaged bytes goes on: a
    /// place it passed is only looked at again while a record starting there could
    /// still be completed by the next chunk (see [`Self::walk`]).
    resume: usize,
    ready: VecDeque<Item>,
    done: bool,
}

impl FileRecords {
    /// Opens the file at `path` (a FIFO, socket or device there is refused at once).
    pub fn open(path: &Path) -> Result<FileRecords, SpoolError> {
        let file = auditrail_core::regular_file::open(OpenOptions::new().read(true), path)
            .map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        let baseline = Baseline::take(&file, len, 0).map_err(io(path))?;
        Ok(FileRecords {
            path: path.to_owned(),
            reader: Checked::new(file, baseline).take(len),
            len,
            carry: Vec::new(),
            base: 0,
            resume: 0,
            ready: VecDeque::new(),
            done: false,
        })
    }

    /// Reads the next chunk and walks what it completes; at the end, the rest.
    fn fill(&mut self) -> Result<(), SpoolError> {
        let have = self.carry.len();
        self.carry.resize(have + READ_BYTES, 0);
        let n = loop {
            match self.reader.read(&mut self.carry[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.carry.truncate(have);
                    return Err(match Rewritten::of(&e) {
                        Some(r) => SpoolError::Rewritten {
                            path: self.path.clone(),
                            source: r.clone(),
                        },
                        None => io(&self.path)(e),
                    });
                }
            }
        };
        self.carry.truncate(have + n);
        let end = n == 0;
        if end {
            let read = self.base + self.carry.len() as u64;
            if read < self.len {
                return Err(SpoolError::Cut {
                    path: self.path.clone(),
                    at: read,
                    len: self.len,
                });
            }
        }
        let walked = self.walk(end, have);
        self.carry.drain(..walked);
        self.base += walked as u64;
        self.done = end;
        Ok(())
    }

    /// Walks `carry` as [`super::scan::pieces`] walks a whole file, up to what a
    /// later chunk may still complete (unless `end`); returns the bytes walked.
    /// `before`: the bytes `carry` held before the last read.
    fn walk(&mut self, end: bool, before: usize) -> usize {
        let buf = &self.carry;
        let mut at = 0;
        // A search for the record after damaged bytes that found none in the last
        // walk goes on where a record could now be whole: a place whose record would
        // have ended within the bytes then (at most `MAX_PAYLOAD` long) was refused for
        // good. Without it, long damage was searched again from its start at every
        // chunk.
        // Set only when the last walk stopped at such damage: it is at `carry[0]`.
        let resume = match std::mem::take(&mut self.resume) {
            0 => 0,
            r => r.max(before.saturating_sub(record::HEADER + record::MAX_PAYLOAD)),
        };
        while at < buf.len() {
            let offset = self.base + at as u64;
            let reason = match record::decode(buf, at) {
                Decoded::Record { payload, next } => {
                    self.ready.push_back(Item::Record(payload.to_vec()));
                    at = next;
                    continue;
                }
                // The rest of the record is in the next chunk.
                Decoded::Incomplete if !end => break,
                Decoded::Incomplete => "incomplete record".to_owned(),
                Decoded::Bad { reason, .. } => reason,
            };
            let from = if at == 0 { resume.max(1) } else { at + 1 };
            match record::resync(buf, from) {
                Some(next) => {
                    self.ready.push_back(Item::Damaged(Range {
                        offset,
                        bytes: (next - at) as u64,
                        reason,
                    }));
                    at = next;
                }
                // The next valid record may start in the next chunk.
                None if !end => {
                    // Looked at up to where a record could start and be whole.
                    self.resume = if at == 0 { from.max(1) } else { 1 };
                    break;
                }
                // A bad tail: said as the walk of the whole file says it.
                None => {
                    let end = self.base + buf.len() as u64;
                    let (reason, _) = super::scan::tail_reason(reason, &buf[at..], end);
                    self.ready.push_back(Item::Damaged(Range {
                        offset,
                        bytes: (buf.len() - at) as u64,
                        reason,
                    }));
                    at = buf.len();
                }
            }
        }
        at
    }
}

impl Iterator for FileRecords {
    type Item = Result<Item, SpoolError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fill() {
                self.done = true;
                self.ready.clear();
                return Some(Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::scan;
    use super::*;

    /// Records and damage across read boundaries (a record split by a read, damage
    /// longer than a read) come out as the walk of the whole file gives them.
    #[test]
    fn chunked_reading_gives_what_the_walk_of_the_whole_file_gives() {
        let mut buf = Vec::new();
        for i in 0..3000 {
            let payload = format!("{{\"i\":{i},\"pad\":\"{}\"}}", "y".repeat(i % 700));
            record::encode_payload(payload.as_bytes(), &mut buf);
            if i == 1000 {
                // Damage longer than a read, then a flipped byte in a record.
                buf.extend(std::iter::repeat_n(0xa5, READ_BYTES + 123));
            }
        }
        let flip = buf.len() / 3 * 2;
        buf[flip] ^= 0x40;
        buf.extend_from_slice(&[1, 2, 3]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.seg.corrupt");
        std::fs::write(&path, &buf).unwrap();
        let whole: Vec<Item> = scan::pieces(&buf, 0)
            .map(|p| match p {
                scan::Piece::Record { payload, .. } => Item::Record(payload.to_vec()),
                scan::Piece::Damaged {
                    offset,
                    len,
                    reason,
                }
                | scan::Piece::Tail {
                    offset,
                    len,
                    reason,
                    ..
                } => Item::Damaged(Range {
                    offset,
                    bytes: len,
                    reason,
                }),
            })
            .collect();
        let read: Vec<Item> = FileRecords::open(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            whole
                .iter()
                .filter(|i| matches!(i, Item::Damaged(_)))
                .count()
                >= 3
        );
        assert_eq!(read, whole);
    }
}
