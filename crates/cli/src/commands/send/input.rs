//! What `send --stdin` reads: stdin, and when stdin is a regular file (`< FILE`), only
//! the bytes the file held when `send` started.
//!
//! Why: the run itself may append to the file it reads. The documented way to re-send
//! dead letters, `send --stdin < run/deadletter/central.jsonl`, appends the events
//! refused again to that very file (and a file target's own audit file grows with
//! every event sent). Reading to the file's end would send those lines again, have
//! them refused and appended again, and so on until the disk is full. A file given
//! on stdin is input that exists when the command starts; a growing file is followed
//! through a pipe (`tail -F FILE |`), which is read to its end.
//!
//! The length measured at the start is also what tells a complete read from one cut
//! short: a file that ends before it (truncated while read, as a log rotation's
//! `copytruncate` does) was not read to its end, and `send` says so.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::os::fd::AsFd;
use std::path::PathBuf;

use auditrail::rewritten::{Baseline, Checked, CHUNK_BYTES};

/// Stdin, measured before the run writes anything.
#[derive(Debug)]
pub(crate) struct StdinInput {
    /// The bytes to read when stdin is a regular file: its length at the start, less
    /// what was read from it before `send` (`(head -n 5; auditrail send ...) < FILE`).
    left: Option<u64>,
    /// The file's length at the start (when stdin is a regular file): whether it has
    /// grown since is compared with it.
    start_len: Option<u64>,
    /// What the file held at the start, where each read checks it (a regular file).
    baseline: Option<Baseline>,
}

impl StdinInput {
    /// Looks at stdin now: call before the dispatcher is built (its start may already
    /// dead-letter events of an earlier run into the file).
    /// An error when a regular file on stdin cannot be read.
    pub(crate) fn at_start() -> std::io::Result<StdinInput> {
        Ok(match regular_file() {
            Some((file, len, at)) => StdinInput {
                left: Some(len.saturating_sub(at)),
                start_len: Some(len),
                baseline: Some(Baseline::take(&file, len, at)?),
            },
            None => StdinInput {
                left: None,
                start_len: None,
                baseline: None,
            },
        })
    }

    /// Whether stdin is a regular file that holds more bytes now than at the start
    /// (it was appended to while read): then a last line without its newline may be
    /// a line that was still being written when `send` started.
    pub(crate) fn has_grown(&self) -> bool {
        match (self.start_len, regular_file()) {
            (Some(start), Some((_, now, _))) => now > start,
            _ => false,
        }
    }

    /// The bytes to read when known (a regular file).
    pub(crate) fn len(&self) -> Option<u64> {
        self.left
    }

    /// The reader of the input (on the thread that reads it: stdin's lock stays there).
    /// A regular file is read through a duplicate of stdin (it shares its offset),
    /// each read checked against what the file held at the start.
    pub(crate) fn reader(&self) -> std::io::Result<Box<dyn BufRead>> {
        let (Some(left), Some(baseline)) = (self.left, &self.baseline) else {
            return Ok(Box::new(std::io::stdin().lock()));
        };
        let file = File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        let checked = Checked::new(file, baseline.clone()).take(left);
        Ok(Box::new(BufReader::with_capacity(CHUNK_BYTES, checked)))
    }
}

/// The path of the file on stdin now (Linux's `/proc/self/fd/0`; a file renamed since
/// shows its new name), when known.
pub(crate) fn stdin_path() -> Option<PathBuf> {
    std::fs::read_link("/proc/self/fd/0").ok()
}

/// When fd 0 is a regular file: a duplicate of it, its length and the offset of fd 0
/// in it (`fstat` and `lseek` on the duplicate, which shares its offset and leaves it
/// as is).
fn regular_file() -> Option<(File, u64, u64)> {
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    let mut file = File::from(fd);
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let at = file.stream_position().ok()?;
    Some((file, meta.len(), at))
}
