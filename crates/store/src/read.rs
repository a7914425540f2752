//! The one reader of stored records: streams a segment file in chunks of complete
//! lines, numbers them, and reports an incomplete last line (a torn tail) instead of
//! handing it out.
//!
//! Each [`Line`] can be taken apart at two depths: [`Line::sealed`] reads only the
//! chain fields (no JSON parsing: what recovery and `auditrail verify` need at disk
//! speed), [`Line::stored_event`] reads the whole line as the event it holds
//! ([`StoredEvent`]: the judgment every reader that shows, proves, counts or signs a
//! record shares). [`Line::record`] parses the envelope alone ([`Record`], its
//! `clientEvent` left as stored text), for a tool that needs the event's text as it is.
//!
//! ```
//! use auditrail_store::SegmentReader;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data: &[u8] = b"{\"a\":1}\n{\"b\":2}\n{\"c\"";
//! let mut reader = SegmentReader::new(data, "in-memory");
//! let mut seen = Vec::new();
//! while reader.next_chunk()? {
//!     for line in reader.chunk().lines() {
//!         seen.push((line.number, line.bytes.to_vec()));
//!     }
//! }
//! assert_eq!(seen, vec![(1, b"{\"a\":1}".to_vec()), (2, b"{\"b\":2}".to_vec())]);
//! let torn = reader.torn_tail().unwrap();
//! assert_eq!((torn.line, torn.offset, torn.bytes), (3, 16, 4));
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::chain::{parse_line, LineError, SealedLine};
use crate::error::StoreError;
use crate::record::{Record, RecordError};
use crate::stored_event::StoredEvent;

/// Bytes read per chunk by default.
pub const DEFAULT_CHUNK_BYTES: usize = 256 * 1024;

/// An incomplete last line: the bytes after the file's last `\n` (a write cut by a
/// crash, or a file being appended to right now).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Its 1-based line number.
    pub line: u64,
    /// Its byte offset in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub bytes: u64,
}

/// One complete line of a segment (without its `\n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number in the file.
    pub number: u64,
    /// Byte offset of the line in the file.
    pub offset: u64,
    /// The line's bytes.
    pub bytes: &'a [u8],
}

impl<'a> Line<'a> {
    /// The byte offset just after the line's `\n`.
    pub fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64 + 1
    }

    /// The line's body and claimed chain link (format only; whether the hash is right
    /// is [`verify_link`](crate::chain::verify_link)'s job).
    pub fn sealed(&self) -> Result<SealedLine<'a>, LineError> {
        parse_line(self.bytes)
    }

    /// The record on this line.
    pub fn record(&self) -> Result<Record<'a>, RecordError> {
        Record::parse(self.bytes)
    }

    /// The event on this line, if it is a readable stored event: the judgment queries
    /// and `auditrail verify` share ([`StoredEvent::read`]).
    pub fn stored_event(&self) -> Result<StoredEvent<'a>, RecordError> {
        StoredEvent::read(self.bytes)
    }
}

/// The complete lines read by one [`SegmentReader::next_chunk`].
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    data: &'a [u8],
    first_line: u64,
    offset: u64,
}

impl<'a> Chunk<'a> {
    /// The chunk's bytes: complete lines, each ending in `\n`.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The byte offset of the chunk in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The line number of the chunk's first line.
    pub fn first_line(&self) -> u64 {
        self.first_line
    }

    /// The chunk's lines, in file order.
    pub fn lines(&self) -> Lines<'a> {
        Lines {
            data: self.data,
            at: 0,
            number: self.first_line,
            offset: self.offset,
        }
    }
}

/// Iterator over the lines of a [`Chunk`].
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    data: &'a [u8],
    at: usize,
    number: u64,
    offset: u64,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = &self.data[self.at..];
        let n = memchr::memchr(b'\n', rest)?;
        let line = Line {
            number: self.number,
            offset: self.offset + self.at as u64,
            bytes: &rest[..n],
        };
        self.at += n + 1;
        self.number += 1;
        Some(line)
    }
}

/// Reads one segment (any [`Read`]: a [`File`] for real stores) in chunks of complete
/// lines.
#[derive(Debug)]
pub struct SegmentReader<R = File> {
    source: R,
    path: PathBuf,
    chunk_bytes: usize,
    buf: Vec<u8>,
    carry: Vec<u8>,
    /// Line number and file offset of the current chunk.
    first_line: u64,
    offset: u64,
    /// Line number and offset of the next chunk.
    next_line: u64,
    next_offset: u64,
    read_bytes: u64,
    done: bool,
    torn: Option<TornTail>,
}

impl SegmentReader<File> {
    /// Opens a segment file.
    pub fn open(path: &Path) -> Result<SegmentReader<File>, StoreError> {
        let file = auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), path)
            .map_err(|e| StoreError::io(path, e))?;
        Ok(SegmentReader::new(file, path))
    }
}

impl<R: Read> SegmentReader<R> {
    /// Reads `source`; `path` names it in errors.
    pub fn new(source: R, path: impl Into<PathBuf>) -> SegmentReader<R> {
        SegmentReader {
            source,
            path: path.into(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            buf: Vec::new(),
            carry: Vec::new(),
            first_line: 1,
            offset: 0,
            next_line: 1,
            next_offset: 0,
            read_bytes: 0,
            done: false,
            torn: None,
        }
    }

    /// Reads about this many bytes per chunk (default [`DEFAULT_CHUNK_BYTES`]).
    pub fn chunk_bytes(mut self, n: usize) -> SegmentReader<R> {
        self.chunk_bytes = n.max(1);
        self
    }

    /// Reads the next chunk of complete lines (at least one). `Ok(false)` at the end of
    /// the file: then [`torn_tail`](Self::torn_tail) tells whether an incomplete line
    /// remained. After a read error, the reader is at its end.
    pub fn next_chunk(&mut self) -> Result<bool, StoreError> {
        self.buf.clear();
        self.first_line = self.next_line;
        self.offset = self.next_offset;
        if self.done {
            return Ok(false);
        }
        loop {
            self.buf.append(&mut self.carry);
            let have = self.buf.len();
            self.buf.resize(have + self.chunk_bytes, 0);
            let mut n = have;
            let mut eof = false;
            // Read a full chunk (short reads happen on pipes and some file systems).
            while n < self.buf.len() {
                match self.source.read(&mut self.buf[n..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buf.clear();
                        self.done = true;
                        return Err(StoreError::io(&self.path, e));
                    }
                }
            }
            self.buf.truncate(n);
            self.read_bytes += (n - have) as u64;
            let complete = memchr::memrchr(b'\n', &self.buf).map_or(0, |i| i + 1);
            let lines = memchr::memchr_iter(b'\n', &self.buf[..complete]).count() as u64;
            if complete < self.buf.len() {
                if eof {
                    self.torn = Some(TornTail {
                        line: self.first_line + lines,
                        offset: self.offset + complete as u64,
                        bytes: (self.buf.len() - complete) as u64,
                    });
                } else {
                    self.carry.extend_from_slice(&self.buf[complete..]);
                }
                self.buf.truncate(complete);
            }
            self.done = eof;
            if complete > 0 {
                self.next_line = self.first_line + lines;
                self.next_offset = self.offset + complete as u64;
                return Ok(true);
            }
            if eof {
                return Ok(false);
            }
        }
    }

    /// The lines of the last chunk read.
    pub fn chunk(&self) -> Chunk<'_> {
        Chunk {
            data: &self.buf,
            first_line: self.first_line,
            offset: self.offset,
        }
    }

    /// The incomplete last line, once the end was reached.
    pub fn torn_tail(&self) -> Option<TornTail> {
        self.torn
    }

    /// Bytes read from the source so far.
    pub fn bytes_read(&self) -> u64 {
        self.read_bytes
    }

    /// The line number the next chunk starts at.
    pub fn next_line(&self) -> u64 {
        self.next_line
    }

    /// Calls `f` for every complete line, in order; returns the torn tail, if any.
    pub fn for_each_line(
        mut self,
        mut f: impl FnMut(Line<'_>),
    ) -> Result<Option<TornTail>, StoreError> {
        while self.next_chunk()? {
            self.chunk().lines().for_each(&mut f);
        }
        Ok(self.torn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line number, offset, bytes) of every line.
    type Lines = Vec<(u64, u64, Vec<u8>)>;

    fn read_all(data: &[u8], chunk: usize) -> (Lines, Option<TornTail>) {
        let mut out = Vec::new();
        let torn = SegmentReader::new(data, "t")
            .chunk_bytes(chunk)
            .for_each_line(|l| out.push((l.number, l.offset, l.bytes.to_vec())))
            .unwrap();
        (out, torn)
    }

    #[test]
    fn every_chunk_size_reads_the_same_lines_and_tail() {
        let data = b"{\"a\":1}\n\n{\"long\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}\nzz\n{\"torn";
        let (expect, tail) = read_all(data, 1 << 20);
        assert_eq!(expect.len(), 4);
        assert_eq!(expect[1], (2, 8, Vec::new()));
        assert_eq!(expect[3].0, 4);
        assert_eq!(
            tail,
            Some(TornTail {
                line: 5,
                offset: (data.len() - 6) as u64,
                bytes: 6
            })
        );
        for chunk in 1..data.len() + 2 {
            assert_eq!(
                read_all(data, chunk),
                (expect.clone(), tail),
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn a_file_ending_in_a_newline_has_no_torn_tail() {
        assert_eq!(read_all(b"a\nb\n", 3).1, None);
        assert_eq!(read_all(b"", 3), (vec![], None));
        let (lines, tail) = read_all(b"no newline at all", 4);
        assert!(lines.is_empty());
        assert_eq!(tail.unwrap().bytes, 17);
    }
}
