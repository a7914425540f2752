//! Reading a file a user names (`--config`, `--public-key`, `keys public --key`): a
//! regular file or a pipe, never more than a bound, never waited on for ever.
//!
//! A pipe is legitimate there at a start (`--config <(...)`, a secrets agent's FIFO):
//! it is read as its writer writes it, for at most [`PIPE_WAIT`]; a FIFO nobody writes
//! (an agent that is not serving, a `mkfifo` gone wrong) is then given up with
//! [`PipeNotWritten`] instead of hanging the start with no word. Read again (a SIGHUP
//! reload, [`Reading::Again`]), a pipe is refused at once with [`PipeNotReread`]: what
//! it held was taken at the start, and a reload waiting on it would hold every later
//! reload behind it. What is never meant is a device or a socket (a link gone wrong to
//! `/dev/zero`, which reads without end and took the server's memory at a SIGHUP), or a
//! huge file (a log, a disk image): those are refused at once, with [`NotRegularFile`]
//! or [`FileTooLarge`], before anything past the bound is read.
//!
//! [`NotRegularFile`]: super::NotRegularFile
//! [`FileTooLarge`]: super::FileTooLarge

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use super::read_bounded;

/// The longest a pipe given at a start is waited on, from its open to its end: ten
/// seconds. A `<(...)` writer (a decryption, a template) is done well within it; a FIFO
/// nobody writes is given up then, with [`PipeNotWritten`].
pub const PIPE_WAIT: Duration = Duration::from_secs(10);

/// When a file a user names is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// At a start (or by a command run once): a pipe is read, for at most
    /// [`PIPE_WAIT`].
    Start,
    /// Again, while running (a SIGHUP reload): a pipe is refused at once
    /// ([`PipeNotReread`]).
    Again,
}

/// A pipe given at a start did not reach its end within [`PIPE_WAIT`]. Carried as the
/// source of an [`io::Error`]; its message begins with the path.
#[derive(Debug, Error)]
#[error(
    "{}: is a pipe that did not reach its end within {} s ({read} bytes came): given up \
     (nothing writes to it? give a regular file, or a pipe whose writer ends)",
    path.display(),
    waited.as_secs()
)]
pub struct PipeNotWritten {
    /// The path read.
    pub path: PathBuf,
    /// The bytes that came before the wait ended.
    pub read: u64,
    /// How long it was waited on ([`PIPE_WAIT`]).
    pub waited: Duration,
}

/// A pipe named to be read again (a SIGHUP reload): refused at once. Carried as the
/// source of an [`io::Error`]; its message begins with the path.
#[derive(Debug, Error)]
#[error(
    "{}: is a pipe, which cannot be read a second time: refused (to reload, put a \
     regular file at this path and send SIGHUP again; a configuration that came from a \
     pipe at the start needs a restart with a regular file once)",
    path.display()
)]
pub struct PipeNotReread {
    /// The path.
    pub path: PathBuf,
}

/// The bytes of the file a user names at `path`: a regular file or (at a start) a pipe
/// of at most `limit` bytes. A device, a socket or a larger file is refused with an
/// error carrying [`super::NotRegularFile`] or [`super::FileTooLarge`]; a pipe read
/// [`Reading::Again`] with [`PipeNotReread`], one that does not end within
/// [`PIPE_WAIT`] with [`PipeNotWritten`].
pub fn read_given(path: &Path, limit: u64, reading: Reading) -> io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        // `metadata` follows links, as the open does: `/dev/fd/63` of a `<(...)` is a pipe.
        if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
            return match reading {
                Reading::Start => pipe::read(path, limit, PIPE_WAIT),
                Reading::Again => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    PipeNotReread {
                        path: path.to_path_buf(),
                    },
                )),
            };
        }
    }
    // A FIFO put there since the look above is refused at once by the non-blocking
    // open (`NotRegularFile`), never waited on.
    read_bounded(path, limit)
}

#[cfg(unix)]
mod pipe {
    //! A pipe read within a time bound: opened without blocking (`O_NONBLOCK`: a FIFO
    //! with no writer opens at once), then read as data comes, `poll(2)` waiting for it
    //! in short steps until the deadline.

    use std::fs::OpenOptions;
    use std::io::{self, Read};
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    use std::path::Path;
    use std::time::{Duration, Instant};

    use rustix::event::{PollFd, PollFlags, Timespec};
    use rustix::fs::OFlags;

    use super::super::{kind_of, not_regular, read_at_most, too_large};
    use super::PipeNotWritten;

    /// The longest one wait lasts: Linux reports no hang-up to a reader when the writer
    /// opened before it and then ends, so the end is also looked for between waits.
    const STEP: Duration = Duration::from_millis(100);

    pub(super) fn read(path: &Path, limit: u64, wait: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + wait;
        let mut file = OpenOptions::new()
            .read(true)
            // The bits fit an i32: O_NONBLOCK is a single low flag on every Unix.
            .custom_flags(OFlags::NONBLOCK.bits() as i32)
            .open(path)?;
        // What was opened, not what the path held a moment before.
        let meta = file.metadata()?;
        if meta.is_file() {
            let flags = rustix::fs::fcntl_getfl(&file)?;
            rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK)?;
            return read_at_most(file, path, limit);
        }
        if !meta.file_type().is_fifo() {
            return Err(not_regular(path, kind_of(&meta)));
        }
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let mut no_writer = false;
            match file.read(&mut chunk) {
                // No writer (any more): the end, once something came. Before, a writer
                // that has not opened it yet reads the same: waited for.
                Ok(0) if !bytes.is_empty() => return Ok(bytes),
                Ok(0) => no_writer = true,
                Ok(n) => {
                    bytes.extend_from_slice(&chunk[..n]);
                    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                    if read > limit {
                        return Err(too_large(path, read, limit));
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    PipeNotWritten {
                        path: path.to_path_buf(),
                        read: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                        waited: wait,
                    },
                ));
            }
            let step = left.min(STEP);
            if no_writer {
                // `poll` would answer at once (a hang-up) when a writer came and went.
                std::thread::sleep(step);
            } else {
                let timeout = Timespec::try_from(step).unwrap_or(Timespec {
                    tv_sec: 0,
                    tv_nsec: 100_000_000,
                });
                let mut fds = [PollFd::new(&file, PollFlags::IN)];
                match rustix::event::poll(&mut fds, Some(&timeout)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use super::super::{FileTooLarge, NotRegularFile};
    use super::*;

    fn mkfifo(path: &Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
    }

    #[test]
    fn a_device_is_refused_and_a_regular_file_or_a_pipe_is_read_within_the_bound() {
        let e = read_given(Path::new("/dev/zero"), 1024, Reading::Start).unwrap_err();
        assert!(e.get_ref().unwrap().is::<NotRegularFile>(), "{e}");

        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("c.toml");
        std::fs::write(&file, b"a = 1\n").unwrap();
        assert_eq!(read_given(&file, 6, Reading::Start).unwrap(), b"a = 1\n");
        assert_eq!(read_given(&file, 6, Reading::Again).unwrap(), b"a = 1\n");
        let e = read_given(&file, 5, Reading::Start).unwrap_err();
        assert!(e.get_ref().unwrap().is::<FileTooLarge>(), "{e}");

        let fifo = tmp.path().join("fifo.toml");
        mkfifo(&fifo);
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                // More than the bound: the reader stops past it (the write may then
                // fail with a broken pipe, which is the reader's doing).
                let _ = w.write_all(&[b'#'; 4096]);
            })
        };
        let e = read_given(&fifo, 1024, Reading::Start).unwrap_err();
        assert!(e.get_ref().unwrap().is::<FileTooLarge>(), "{e}");
        drop(writer.join());
    }

    #[test]
    fn a_pipe_is_read_to_its_end_at_a_start_whether_its_writer_came_before_or_after() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo.toml");
        mkfifo(&fifo);
        // The writer opens first (blocking until the reader's open), writes in two
        // parts with a pause, then ends.
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                w.write_all(b"a = 1\n").unwrap();
                std::thread::sleep(Duration::from_millis(300));
                w.write_all(b"b = 2\n").unwrap();
            })
        };
        assert_eq!(
            read_given(&fifo, 1024, Reading::Start).unwrap(),
            b"a = 1\nb = 2\n"
        );
        writer.join().unwrap();
    }

    #[test]
    fn a_pipe_nobody_writes_is_given_up_at_a_start_and_refused_at_once_read_again() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo.toml");
        mkfifo(&fifo);
        let e = read_given(&fifo, 1024, Reading::Again).unwrap_err();
        let inner = e.get_ref().unwrap().downcast_ref::<PipeNotReread>();
        assert_eq!(inner.unwrap().path, fifo, "{e}");
        // Its path first, once.
        let said = format!(
            "{}: is a pipe, which cannot be read a second time",
            fifo.display()
        );
        assert!(e.to_string().starts_with(&said), "{e}");

        let e = pipe::read(&fifo, 1024, Duration::from_millis(200)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let inner = e
            .get_ref()
            .unwrap()
            .downcast_ref::<PipeNotWritten>()
            .unwrap();
        assert_eq!((inner.path.as_path(), inner.read), (fifo.as_path(), 0));
    }
}
