//! A regular file rewritten in place while it is read: truncated and written again
//! past the read position (a log rotation's `copytruncate` followed by the
//! application's next lines; a node's spool cutting a segment's tail at its start and
//! appending after it) before the reader gets there. A length check cannot see it (the
//! file is as long as before, or longer), and reading on from the same offset would
//! take the new file's bytes as if they followed the old ones: the bytes between
//! lost, the two mixed. Read this way: `auditrail send --stdin < FILE` (its lines) and
//! the spool's reader of a segment or set-aside file (`auditrail spool resend`).
//!
//! So every read is checked against what the file held: after each read (one per
//! [`CHUNK_BYTES`]), the file's first bytes and the bytes just before the read's
//! offset are read again (`pread`, which leaves a shared offset, such as stdin's, as
//! it is) and compared with those seen before. The first bytes are the file's
//! identity, as the log shippers fingerprint a file (Vector: a checksum of the first
//! line; Fluent Bit and rsyslog look at inode and size only, which a truncation in
//! place keeps); the bytes before the offset are what the read carries on from, so a
//! new file that begins with the same header is seen too. A read whose check fails is
//! not used: the error ([`Rewritten`]) says from which byte on nothing was used.
//!
//! A file renamed away (rotation to a new inode) needs nothing: the open file still
//! reads the old one, which keeps its bytes. Hand-written: the crates that follow
//! files (`tail`, `staart`, `notify`-based ones) re-open by path, while this is one
//! open file.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

/// How many bytes each of the two compared regions holds (Vector's first fingerprint
/// read 256 bytes too): enough to hold an event line's timestamp or id.
pub const COMPARED: usize = 256;

/// The reader's buffer, one read and one check per this many bytes: the check reads
/// at most 2 x [`COMPARED`] bytes again in 2 `pread`s per 64 KiB read (0.8 % of the
/// bytes; 3 syscalls per 64 KiB, where stdin's own 8 KiB buffer took 8).
pub const CHUNK_BYTES: usize = 64 << 10;

/// What a file held when its reading started, where each read checks it.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The file's first bytes (up to [`COMPARED`]).
    head: Vec<u8>,
    /// The bytes before `start` (up to [`COMPARED`]): read by someone before the
    /// reader (`(head -n 5; auditrail send ...) < FILE`), or none.
    before: Vec<u8>,
    /// The file's offset when the reading started.
    start: u64,
}

impl Baseline {
    /// Reads them from `file`, `len` bytes long, whose reading starts at offset
    /// `start` (stdin's offset; 0 for a file opened to be read).
    pub fn take(file: &File, len: u64, start: u64) -> io::Result<Baseline> {
        let head = read_at(
            file,
            0,
            usize::try_from(len).map_or(COMPARED, |l| l.min(COMPARED)),
        )?;
        let from = start.saturating_sub(COMPARED as u64);
        let before = read_at(file, from, (start - from) as usize)?;
        Ok(Baseline {
            head,
            before,
            start,
        })
    }
}

/// Which bytes differed from what the file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    /// The file's first `bytes`.
    Head { bytes: usize },
    /// The `bytes` read last, before byte `at` of the input (counted from where the
    /// reading started).
    Before { bytes: usize, at: u64 },
}

/// A file no longer holds what was read from it: it was truncated and written again
/// while read. Carried as the source of an [`io::Error`] ([`Rewritten::of`]); its
/// message does not name the file: every caller's error does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("was rewritten in place while read, at byte {at} of the input: {region}")]
pub struct Rewritten {
    /// The bytes of the input read (counted from where the reading started) when it
    /// was noticed: none from there on was used.
    pub at: u64,
    /// What differed.
    pub region: Region,
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Region::Head { bytes } => write!(
                f,
                "its first {bytes} bytes no longer held what they held when the reading started"
            ),
            Region::Before { bytes, at } => write!(
                f,
                "the {bytes} bytes read last, before byte {at}, no longer held what they held \
                 when read"
            ),
        }
    }
}

impl Rewritten {
    /// The [`Rewritten`] that stopped a read, if that is what `error` is.
    pub fn of(error: &io::Error) -> Option<&Rewritten> {
        error.get_ref()?.downcast_ref::<Rewritten>()
    }
}

/// A regular file (stdin, or one opened to be read), each read checked against the
/// [`Baseline`]. A file found shorter than what was read of it ends the input there
/// (`Ok(0)`): the caller tells that cut from the end the file had at the start.
#[derive(Debug)]
pub struct Checked {
    file: File,
    head: Vec<u8>,
    /// The last bytes read (up to [`COMPARED`]), which end at `pos`.
    before: Vec<u8>,
    /// The offset of the next read.
    pos: u64,
    start: u64,
    /// The file was found shorter than what was read of it: nothing more is read.
    cut: bool,
}

impl Checked {
    /// Reads `file` (for stdin, a duplicate of it: it shares its offset) on from where
    /// the baseline was taken.
    pub fn new(file: File, baseline: Baseline) -> Checked {
        Checked {
            file,
            head: baseline.head,
            before: baseline.before,
            pos: baseline.start,
            start: baseline.start,
            cut: false,
        }
    }

    /// Whether the file still holds the bytes compared, read again now: a read that
    /// got bytes of a file rewritten before it finds them changed.
    fn check(&self) -> io::Result<Found> {
        let head = read_at(&self.file, 0, self.head.len())?;
        let from = self.pos - self.before.len() as u64;
        let before = read_at(&self.file, from, self.before.len())?;
        Ok(
            if head.len() < self.head.len() || before.len() < self.before.len() {
                Found::Shorter
            } else if head != self.head {
                Found::Differs(Region::Head {
                    bytes: self.head.len(),
                })
            } else if before != self.before {
                Found::Differs(Region::Before {
                    bytes: self.before.len(),
                    at: self.pos - self.start,
                })
            } else {
                Found::Same
            },
        )
    }
}

/// What a check found.
#[derive(Debug)]
enum Found {
    Same,
    /// The file is shorter now than what was read of it: cut while read.
    Shorter,
    /// It holds other bytes there now.
    Differs(Region),
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cut {
            return Ok(0);
        }
        let n = self.file.read(buf)?;
        // The end of the file: whether it came before the length at the start (a cut)
        // is the caller's check.
        if n == 0 {
            return Ok(0);
        }
        match self.check()? {
            Found::Same => {}
            // Cut after this read got its bytes (or before, and written again with
            // fewer): the end of the input, which the caller tells from the end the
            // file had at the start, and names as a cut. Those bytes are not used: what
            // follows them is gone.
            Found::Shorter => {
                self.cut = true;
                return Ok(0);
            }
            Found::Differs(region) => {
                return Err(io::Error::other(Rewritten {
                    at: self.pos - self.start,
                    region,
                }))
            }
        }
        let got = &buf[..n];
        if n >= COMPARED {
            self.before.clear();
            self.before.extend_from_slice(&got[n - COMPARED..]);
        } else {
            self.before.extend_from_slice(got);
            let over = self.before.len().saturating_sub(COMPARED);
            self.before.drain(..over);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Up to `len` bytes of `file` from `offset`: fewer where the file ends sooner (then
/// they differ from what was there).
fn read_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut bytes[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(got);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A cut between a read and its check (a race no process test can time): the file
    /// is found shorter, which is the end of the input (named a cut by the caller),
    /// not a rewrite.
    #[test]
    fn a_file_cut_between_a_read_and_its_check_is_found_shorter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, vec![b'x'; 3 * CHUNK_BYTES]).unwrap();
        let file = File::open(&path).unwrap();
        let baseline = Baseline::take(&file, 3 * CHUNK_BYTES as u64, 0).unwrap();
        let mut checked = Checked::new(file, baseline);
        let mut buf = vec![0; CHUNK_BYTES];
        assert_eq!(checked.read(&mut buf).unwrap(), CHUNK_BYTES);
        assert!(matches!(checked.check().unwrap(), Found::Same));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(10)
            .unwrap();
        assert!(matches!(checked.check().unwrap(), Found::Shorter));
    }
}
