//! Streams one record file in chunks, parses its lines and checks their order.

use std::fs::File;
use std::io::Read;

use crate::integrity::chain::parse_line_fast;

use super::report::{Problem, ProblemKind, StoreReport};
use super::Progress;

/// Bytes read per chunk. Lines of one chunk are sorted by chainSeq before they are
/// handed on, so that two swapped lines are reported once as reordered and the chain
/// walk still sees them in order.
const CHUNK: usize = 256 * 1024;

/// One parsed record line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub seq: u64,
    pub hash: [u8; 32],
    /// The body's range in the chunk buffer.
    start: u32,
    end: u32,
    /// 1-based line number in the file.
    pub line: u64,
}

/// A reader over one record file.
pub(crate) struct Cursor {
    pub rel: String,
    reader: File,
    buf: Vec<u8>,
    carry: Vec<u8>,
    entries: Vec<Entry>,
    pos: usize,
    next_line: u64,
    prev_in_file: Option<(u64, u64)>,
    eof: bool,
}

impl Cursor {
    /// Opens the file and loads its first chunk.
    pub fn open(
        rel: String,
        reader: File,
        report: &mut StoreReport,
        progress: &dyn Progress,
    ) -> Cursor {
        let mut c = Cursor {
            rel,
            reader,
            buf: Vec::with_capacity(CHUNK),
            carry: Vec::new(),
            entries: Vec::new(),
            pos: 0,
            next_line: 1,
            prev_in_file: None,
            eof: false,
        };
        c.fill(report, progress);
        c
    }

    /// The current record, if any.
    pub fn current(&self) -> Option<(&Entry, &[u8])> {
        self.entries
            .get(self.pos)
            .map(|e| (e, &self.buf[e.start as usize..e.end as usize]))
    }

    /// Moves to the next record, reading on as needed.
    pub fn advance(&mut self, report: &mut StoreReport, progress: &dyn Progress) {
        self.pos += 1;
        if self.pos >= self.entries.len() {
            self.fill(report, progress);
        }
    }

    /// Loads chunks until at least one record is available or the file ends.
    fn fill(&mut self, report: &mut StoreReport, progress: &dyn Progress) {
        self.entries.clear();
        self.pos = 0;
        while self.entries.is_empty() && !self.eof {
            self.buf.clear();
            self.buf.append(&mut self.carry);
            let have = self.buf.len();
            self.buf.resize(have + CHUNK, 0);
            let mut n = have;
            // Read a full chunk (short reads happen on pipes and some file systems).
            while n < self.buf.len() {
                match self.reader.read(&mut self.buf[n..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        report.push(
                            Problem::error(
                                ProblemKind::Unreadable,
                                format!("read error after line {}: {e}", self.next_line - 1),
                            )
                            .at(&self.rel, self.next_line),
                        );
                        self.eof = true;
                        break;
                    }
                }
            }
            self.buf.truncate(n);
            progress.advance((n - have) as u64);
            let complete = match memchr::memrchr(b'\n', &self.buf) {
                Some(i) => i + 1,
                None => 0,
            };
            if complete < self.buf.len() {
                if self.eof {
                    let torn = self.buf.len() - complete;
                    report.push(
                        Problem::error(
                            ProblemKind::TornTail,
                            format!(
                                "the file ends in an incomplete line of {torn} bytes (a crash mid-write not repaired, or a cut file)"
                            ),
                        )
                        .at(&self.rel, self.next_line + count_lines(&self.buf[..complete])),
                    );
                } else {
                    self.carry.extend_from_slice(&self.buf[complete..]);
                }
                self.buf.truncate(complete);
            }
            self.parse_chunk(report);
        }
    }

    fn parse_chunk(&mut self, report: &mut StoreReport) {
        let mut start = 0usize;
        let mut sorted = true;
        for nl in memchr::memchr_iter(b'\n', &self.buf) {
            let line_no = self.next_line;
            self.next_line += 1;
            let line = &self.buf[start..nl];
            let line_start = start;
            start = nl + 1;
            let parsed = match parse_line_fast(line) {
                Ok(p) => p,
                Err(e) => {
                    let what = if line.is_empty() {
                        "empty line".to_string()
                    } else {
                        e.to_string()
                    };
                    report.push(
                        Problem::error(ProblemKind::MalformedLine, what).at(&self.rel, line_no),
                    );
                    continue;
                }
            };
            let seq = parsed.link.seq;
            if let Some((prev_seq, prev_line)) = self.prev_in_file {
                if seq < prev_seq {
                    report.push(
                        Problem::error(
                            ProblemKind::Reordered,
                            format!(
                                "chainSeq {seq} comes after chainSeq {prev_seq} (line {prev_line}): lines out of order"
                            ),
                        )
                        .at(&self.rel, line_no)
                        .seqs(seq, prev_seq),
                    );
                    sorted = false;
                }
            }
            if !matches!(self.prev_in_file, Some((p, _)) if seq <= p) {
                self.prev_in_file = Some((seq, line_no));
            }
            self.entries.push(Entry {
                seq,
                hash: parsed.link.hash,
                start: line_start as u32,
                end: (line_start + parsed.body.len()) as u32,
                line: line_no,
            });
        }
        report.records += self.entries.len() as u64;
        if !sorted {
            self.entries.sort_by_key(|e| e.seq);
        }
    }
}

fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}
