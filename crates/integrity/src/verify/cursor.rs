//! Streams one record file in chunks, parses its lines and checks their order.

use std::fs::File;

use auditrail_store::{SegmentReader, StoredEvent};

use super::placement::{FileCheck, Placement};
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
    /// The body's range in the chunk.
    start: u32,
    end: u32,
    /// 1-based line number in the file.
    pub line: u64,
    /// Whether it is in the folder the store's layout puts it in (see `Placement::check`).
    pub placed: bool,
}

/// A reader over one record file (the store's segment reader, plus the order checks).
pub(crate) struct Cursor {
    pub rel: String,
    reader: SegmentReader<File>,
    entries: Vec<Entry>,
    pos: usize,
    prev_in_file: Option<(u64, u64)>,
    eof: bool,
    torn_reported: bool,
    placement: FileCheck,
}

impl Cursor {
    /// Opens the file and loads its first chunk.
    pub(super) fn open(
        rel: String,
        reader: File,
        report: &mut StoreReport,
        placement: &mut Placement,
        progress: &dyn Progress,
    ) -> Cursor {
        let path = rel.clone();
        let mut c = Cursor {
            placement: Placement::file(&rel),
            rel,
            reader: SegmentReader::new(reader, path).chunk_bytes(CHUNK),
            entries: Vec::new(),
            pos: 0,
            prev_in_file: None,
            eof: false,
            torn_reported: false,
        };
        c.fill(report, placement, progress);
        c
    }

    /// The current record, if any.
    pub(super) fn current(&self) -> Option<(&Entry, &[u8])> {
        self.entries.get(self.pos).map(|e| {
            (
                e,
                &self.reader.chunk().bytes()[e.start as usize..e.end as usize],
            )
        })
    }

    /// Moves to the next record, reading on as needed.
    pub(super) fn advance(
        &mut self,
        report: &mut StoreReport,
        placement: &mut Placement,
        progress: &dyn Progress,
    ) {
        self.pos += 1;
        if self.pos >= self.entries.len() {
            self.fill(report, placement, progress);
        }
    }

    /// Loads chunks until at least one record is available or the file ends.
    fn fill(
        &mut self,
        report: &mut StoreReport,
        placement: &mut Placement,
        progress: &dyn Progress,
    ) {
        self.entries.clear();
        self.pos = 0;
        while self.entries.is_empty() && !self.eof {
            let before = self.reader.bytes_read();
            let more = self.reader.next_chunk();
            progress.advance(self.reader.bytes_read() - before);
            // The incomplete last line is reported as soon as the end is seen, before
            // the lines of that last chunk (as a reader of the file meets them).
            if let Some(torn) = self.reader.torn_tail().filter(|_| !self.torn_reported) {
                self.torn_reported = true;
                report.push(
                    Problem::error(
                        ProblemKind::TornTail,
                        format!(
                            "the file ends in an incomplete line of {} bytes (a crash mid-write not repaired, a cut file, or bytes someone else appended)",
                            torn.bytes
                        ),
                    )
                    .at(&self.rel, torn.line),
                );
            }
            match more {
                Ok(true) => self.parse_chunk(report, placement),
                Ok(false) => self.eof = true,
                Err(e) => {
                    let after = self.reader.next_line() - 1;
                    let cause = match &e {
                        auditrail_store::StoreError::Io { source, .. } => source.to_string(),
                        other => other.to_string(),
                    };
                    report.push(
                        Problem::error(
                            ProblemKind::Unreadable,
                            format!("read error after line {after}: {cause}"),
                        )
                        .at(&self.rel, after + 1),
                    );
                    self.eof = true;
                }
            }
        }
    }

    fn parse_chunk(&mut self, report: &mut StoreReport, placement: &mut Placement) {
        let mut sorted = true;
        let chunk = self.reader.chunk();
        for line in chunk.lines() {
            let line_no = line.number;
            let parsed = match line.sealed() {
                Ok(p) => p,
                Err(e) => {
                    let what = if line.bytes.is_empty() {
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
            // Chained, but is it an event? Queries leave out every line the store's
            // reader does not take as one (and send the user here to find it): named
            // here by the same judgment. The line stays in the chain walk (its chain
            // fields are sound), so this is the one problem a chained line gets for it.
            if let Err(e) = StoredEvent::read(line.bytes) {
                report.push(
                    Problem::error(
                        ProblemKind::MalformedLine,
                        format!("chainSeq {seq}: not an event queries can read, they leave it out ({e})"),
                    )
                    .at(&self.rel, line_no)
                    .seqs(seq, seq),
                );
            }
            let placed = placement.check(&mut self.placement, line.bytes, line_no, seq);
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
            // The body is the start of the line: its range in the chunk.
            let start = (line.offset - chunk.offset()) as usize;
            self.entries.push(Entry {
                seq,
                hash: parsed.link.hash,
                start: start as u32,
                end: (start + parsed.body.len()) as u32,
                line: line_no,
                placed,
            });
        }
        report.records += self.entries.len() as u64;
        if !sorted {
            self.entries.sort_by_key(|e| e.seq);
        }
    }
}
