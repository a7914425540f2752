//! Appending whole lines to a log file (`checkpoints.jsonl`, `acceptances.jsonl`): a
//! line is in the file whole and fsynced, or not at all.
//!
//! A full disk can make an append short: part of the line is written, then `ENOSPC`.
//! Left there, the fragment would be the start of the next line appended (a retry, or
//! the first append once space is free again): a damaged line in the middle of the
//! log. So an append that fails is cut back to the length before it; if that cut
//! fails too, the next append cuts first, and writes nothing unless the cut succeeds.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// What an append needs of a file opened for appending (`O_APPEND`: every write goes
/// to the end, also after a cut).
pub(crate) trait LogFile: Write {
    /// Cuts (or extends) the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// fsyncs the data (and the length).
    fn sync_data(&self) -> io::Result<()>;
}

impl LogFile for File {
    fn set_len(&self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
    fn sync_data(&self) -> io::Result<()> {
        File::sync_data(self)
    }
}

impl<T: LogFile + ?Sized> LogFile for Box<T> {
    fn set_len(&self, len: u64) -> io::Result<()> {
        (**self).set_len(len)
    }
    fn sync_data(&self) -> io::Result<()> {
        (**self).sync_data()
    }
}

/// A log file appended to line by line, and the length of its whole lines.
#[derive(Debug)]
pub(crate) struct AppendLog<F: LogFile = File> {
    file: F,
    /// The length up to the end of the last whole line (what the file holds after
    /// every successful append).
    len: u64,
    /// The file may hold more than `len` bytes (a fragment): cut before appending.
    torn: bool,
}

impl AppendLog<File> {
    /// Opens (or creates) the log at `path` for appending. A fragment after the last
    /// whole line (an append whose cut failed) is cut by the first append.
    pub(crate) fn open(path: &Path) -> io::Result<AppendLog<File>> {
        // Never through a symbolic link at its name (the lines would be appended to
        // the file it points to, outside the data dir): refused.
        let mut file = auditrail_core::regular_file::open_no_follow(
            OpenOptions::new().read(true).append(true).create(true),
            path,
        )?;
        let end = file.metadata()?.len();
        let len = whole_lines_len(&mut file, end)?;
        Ok(AppendLog {
            file,
            len,
            torn: len != end,
        })
    }
}

impl<F: LogFile> AppendLog<F> {
    /// A log over `file` (opened for appending) whose whole lines end at `len`; any
    /// bytes after it are cut by the first append.
    pub(crate) fn new(file: F, len: u64) -> AppendLog<F> {
        AppendLog {
            file,
            len,
            torn: true,
        }
    }

    /// A log over `file` (opened for appending) that ends at `len`, its last line
    /// whole (a torn tail already cut): a byte found after `len` from now on is
    /// someone else's ([`Self::expected`]).
    pub(crate) fn whole(file: F, len: u64) -> AppendLog<F> {
        AppendLog {
            file,
            len,
            torn: false,
        }
    }

    /// The length of the file's whole lines: what it holds after every successful
    /// append (more only while a failed append's bytes wait to be cut).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// How long the file must be to be the one this log wrote: exactly [`Self::len`]
    /// (a byte more is someone else's, and a line appended after it would be glued to
    /// it), or at least that while bytes after it wait to be cut (a failed append's,
    /// or a log opened with its end unchecked): the next append cuts them first.
    pub(crate) fn expected(&self) -> auditrail_core::durable::Expected {
        if self.torn {
            auditrail_core::durable::Expected::AtLeast(self.len)
        } else {
            auditrail_core::durable::Expected::Exactly(self.len)
        }
    }

    /// Appends `line` (one or more whole lines, each ending in a newline) and fsyncs.
    /// On any error the file is cut back to its length before the call.
    pub(crate) fn append(&mut self, line: &[u8]) -> io::Result<()> {
        if self.torn {
            self.cut()?;
        }
        match self
            .file
            .write_all(line)
            .and_then(|()| self.file.sync_data())
        {
            Ok(()) => {
                self.len += line.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.torn = true;
                if let Err(cut) = self.cut() {
                    tracing::error!(error = %cut, "cannot cut a failed append back; the next append cuts it first");
                }
                Err(e)
            }
        }
    }

    fn cut(&mut self) -> io::Result<()> {
        self.file.set_len(self.len)?;
        self.file.sync_data()?;
        self.torn = false;
        Ok(())
    }
}

/// The length of `file` (`end` bytes long) up to the end of its last newline.
fn whole_lines_len(file: &mut File, end: u64) -> io::Result<u64> {
    let mut at = end;
    let mut buf = [0u8; 4096];
    while at > 0 {
        let n = buf.len().min(at as usize);
        let start = at - n as u64;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        at = start;
    }
    Ok(0)
}

/// A file that writes only `room` more bytes, then fails with `ENOSPC` (a full disk),
/// and whose cuts fail while `cut_fails` is set (both shared: the test frees space).
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct FullDisk {
    pub(crate) file: File,
    pub(crate) room: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) cut_fails: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[cfg(test)]
impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.room.load(std::sync::atomic::Ordering::Relaxed);
        if room == 0 {
            return Err(io::Error::from_raw_os_error(28));
        }
        let n = self.file.write(&buf[..buf.len().min(room)])?;
        self.room.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
impl LogFile for FullDisk {
    fn set_len(&self, len: u64) -> io::Result<()> {
        if self.cut_fails.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(io::Error::other("cut refused (test)"));
        }
        self.file.set_len(len)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_short_append_is_cut_back_and_a_fragment_left_by_a_failed_cut_is_cut_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"b\":").unwrap();
        let mut log = AppendLog::open(&path).unwrap();
        log.append(b"{\"c\":3}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"c\":3}\n"
        );
        let len = log.len;

        let cut_fails = Arc::new(AtomicBool::new(true));
        let room = Arc::new(AtomicUsize::new(4));
        let file = OpenOptions::new().append(true).open(&path).unwrap();
        let mut log = AppendLog {
            file: FullDisk {
                file,
                room: room.clone(),
                cut_fails: cut_fails.clone(),
            },
            len,
            torn: false,
        };
        assert_eq!(
            log.append(b"{\"d\":4}\n").unwrap_err().raw_os_error(),
            Some(28)
        );
        // The cut failed: the fragment is still there, and nothing is appended after it.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"c\":3}\n{\"d\""
        );
        assert!(log.append(b"{\"e\":5}\n").is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"c\":3}\n{\"d\""
        );
        // Space is back and cuts work again: the fragment goes first.
        cut_fails.store(false, Ordering::Relaxed);
        room.store(usize::MAX, Ordering::Relaxed);
        log.append(b"{\"f\":6}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"c\":3}\n{\"f\":6}\n"
        );
    }
}
