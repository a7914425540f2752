//! The file a target is writing now, and the checks that make its `Ok` true.
//!
//! An operator or a log rotation tool may delete, move or truncate the file under a
//! running writer. A descriptor keeps writing into whatever it was opened on, so
//! without checks the writes of a deleted file land in an unlinked inode (gone when
//! the descriptor closes) and those of a moved file land under another name, while
//! the target acknowledges them as durable. Every write therefore:
//!
//! 1. before writing, compares the descriptor's identity (device, inode) with the
//!    path's and reopens the path when they differ (deleted: a new file is created;
//!    moved: the new file at the path is used, or created);
//! 2. notices a file that shrank since our last write (logrotate's `copytruncate`),
//!    logs it, and goes on at the new end: the file is opened `O_APPEND`, so writes
//!    land at the current end and never leave a hole of NUL bytes;
//! 3. after writing (and fsyncing), checks again that the path still names the file
//!    and that the file grew by the whole write. If not, the write landed in a file
//!    that is gone from its path or was truncated while we wrote: it is reported as
//!    [`Landed::Lost`] and the caller writes it again into the file the path names.
//!
//! The bytes go through tracing-appender's `RollingFileAppender` with
//! `Rotation::NEVER`, whose descriptor we cannot reach (no fstat, no fsync); our own
//! descriptor, opened just before it, names the same inode, and every check and fsync
//! goes through it.
//!
//! A symbolic link put at the file's name is never written through (CWE-59: the
//! process may run as root, and whoever can write the folder could otherwise have
//! audit lines appended to any file): our descriptor is opened `O_NOFOLLOW`, a link
//! found there is removed and a regular file made at the path (see
//! `auditrail_core::no_follow`), and identities are compared with `lstat`, so a link
//! that replaces the file counts as another file at the path. tracing-appender opens
//! its file by name, following links, so it is given our descriptor's
//! `/proc/self/fd/N` (on Linux that opens our very inode, whatever is at the path by
//! then); without `/proc` it opens the path, and the open is refused unless the path
//! still names our file afterwards.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};

use auditrail_core::no_follow;

use super::{sync_dir, WriteError};

/// Why a finished write does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gone {
    /// The file was unlinked (no name left): its bytes vanish with the descriptor.
    Deleted,
    /// The file now lives under another name (moved or rolled away by another
    /// program); the path names another file or none.
    Moved,
    /// The file shrank while we wrote (truncated by another program): our bytes may
    /// have been cut away.
    Truncated,
}

impl Gone {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Gone::Deleted => "the file was deleted while the batch was written",
            Gone::Moved => "the file was moved away while the batch was written",
            Gone::Truncated => "the file was truncated while the batch was written",
        }
    }
}

/// Outcome of [`ActiveFile::write`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Landed {
    /// Every byte is in the file the path names (and synced when asked).
    Kept,
    /// The bytes landed in a file that no longer holds them at the path: write
    /// them again into the file the path names now.
    Lost(Gone),
}

pub(crate) struct ActiveFile {
    path: PathBuf,
    appender: RollingFileAppender,
    /// The same file, opened by us: for fstat, fsync and reading its last byte.
    handle: File,
    /// (device, inode) of the file.
    id: (u64, u64),
    /// Size of the file after our last write (or at open): a smaller size later
    /// means someone truncated it.
    end: u64,
    /// The file ends inside a line (a torn write of ours or a crash): the next
    /// write starts with `\n`, so the fragment stays alone on its line and readers
    /// skip it.
    mid_line: bool,
}

impl ActiveFile {
    /// Opens (creating it, and its folder when that was removed: see `folder.rs`)
    /// `<dir>/<file_name>` through tracing-appender, plus our own descriptor of the
    /// same file. Call with the folder's roll lock held, if any.
    ///
    /// `after_crash`: look for a torn last line (a crash of an earlier run cut its
    /// write short) and start the next write on a new line. Only when the target
    /// starts: later (re)opens find files that other writers of the folder are
    /// appending to, where a size read during their write can end mid-line although
    /// their lines are whole.
    pub(crate) fn open(
        dir: &Path,
        file_name: &str,
        after_crash: bool,
        check: super::folder::Check<'_>,
    ) -> Result<ActiveFile, WriteError> {
        // Removed with its folder: the folder first, or the file cannot be made. (A
        // caller that held a file of the folder told first whether it was moved.)
        super::folder::recreate_if_gone(dir, &[], check)?;
        let path = dir.join(file_name);
        // Ours first: its error names the path and keeps the OS error. Never through
        // a symbolic link (see the module docs).
        // Nor a FIFO or device put at its name: refused naming what it is (see
        // `super::open_append`).
        let mut handle = no_follow::open_regular_replacing_link(
            // Not readable by every local user (`auditrail_core::file_mode`).
            auditrail_core::file_mode::audit_data(
                fs::OpenOptions::new().read(true).append(true).create(true),
            ),
            &path,
        )
        .map_err(|e| WriteError::new(&path, "open", e))?;
        let meta = handle
            .metadata()
            .map_err(|e| WriteError::new(&path, "stat", e))?;
        let (appender, by_path) = appender_on(&handle, dir, file_name)
            .map_err(|e| WriteError::new(&path, "open", io::Error::other(e.to_string())))?;
        // Opened by its path, the appender would have followed a link put there
        // meanwhile: the path must still name our file.
        let ours = |m: &fs::Metadata| (m.dev(), m.ino()) == (meta.dev(), meta.ino());
        if by_path && !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && ours(&m)) {
            return Err(WriteError::new(
                &path,
                "open",
                io::Error::other("the file at the path was replaced while it was opened"),
            ));
        }
        // The file's name must survive a crash too: synced on every open, not only
        // when it is new here (the size rotation's probe creates it first, and a run
        // killed between a creation and its folder sync leaves a file whose name no
        // later "is it new" check would make durable). Opens are rare (start, roll).
        sync_dir(dir).map_err(|e| WriteError::new(dir, "fsync", e))?;
        let mid_line =
            after_crash && torn_tail(&mut handle, meta.len(), || std::thread::sleep(SETTLE));
        if mid_line {
            tracing::warn!(
                path = %path.display(),
                "the audit file ends with a torn line (a write cut short): new lines start \
                 after it, and readers skip it"
            );
        }
        Ok(ActiveFile {
            path,
            appender,
            handle,
            id: (meta.dev(), meta.ino()),
            end: meta.len(),
            mid_line,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the path still names this file (false when it names another file,
    /// or none).
    /// Our descriptor of the file (whether it still has a name: `folder.rs`).
    pub(crate) fn handle(&self) -> &File {
        &self.handle
    }

    pub(crate) fn is_at_path(&self) -> Result<bool, WriteError> {
        // lstat: a symbolic link put at the path is another file, even one to ours.
        match fs::symlink_metadata(&self.path) {
            Ok(m) => Ok((m.dev(), m.ino()) == self.id),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(WriteError::new(&self.path, "stat", e)),
        }
    }

    /// Why the path no longer names this file: deleted (no link left) or moved.
    pub(crate) fn why_gone(&self) -> Gone {
        match self.handle.metadata() {
            Ok(m) if m.nlink() == 0 => Gone::Deleted,
            _ => Gone::Moved,
        }
    }

    /// The next write must start on a new line (the last one may have been cut).
    pub(crate) fn mark_mid_line(&mut self) {
        self.mid_line = true;
    }

    /// The current size (fstat).
    pub(crate) fn len(&self) -> Result<u64, WriteError> {
        self.handle
            .metadata()
            .map(|m| m.len())
            .map_err(|e| WriteError::new(&self.path, "stat", e))
    }

    /// Appends `lines` (whole lines) in one write, fsyncs when asked, then checks that
    /// they are in the file the path names (see the module docs).
    pub(crate) fn write(&mut self, lines: &[u8], fsync: bool) -> Result<Landed, WriteError> {
        let before = self.len()?;
        if before < self.end {
            tracing::error!(
                path = %self.path.display(),
                size_after_last_write = self.end,
                size_now = before,
                "the audit file was truncated by another program (e.g. logrotate \
                 copytruncate): lines written between that program's copy and its truncation \
                 are lost; writing goes on at the new end (rotate by moving the file instead)"
            );
            self.end = before;
        }
        let newline = self.mid_line && before > 0;
        #[cfg(feature = "testing")]
        if let Some(e) = crate::testing::write_error(&self.path) {
            self.mid_line = true;
            return Err(WriteError::new(&self.path, "write", e));
        }
        let written = if newline {
            // One write(2) per batch keeps concurrent writers' lines whole.
            let mut buf = Vec::with_capacity(lines.len() + 1);
            buf.push(b'\n');
            buf.extend_from_slice(lines);
            self.appender.write_all(&buf).map(|()| buf.len())
        } else {
            self.appender.write_all(lines).map(|()| lines.len())
        };
        let written = match written {
            Ok(n) => n as u64,
            Err(e) => {
                self.mid_line = true;
                return Err(WriteError::new(&self.path, "write", e));
            }
        };
        self.mid_line = false;
        if fsync {
            self.handle
                .sync_data()
                .map_err(|e| WriteError::new(&self.path, "fsync", e))?;
        }
        let after = self.len()?;
        if !self.is_at_path()? {
            return Ok(Landed::Lost(self.why_gone()));
        }
        // O_APPEND writers only ever grow the file: less than our bytes on top of
        // what was there means a truncation came during the write.
        if after < before + written {
            self.end = after;
            return Ok(Landed::Lost(Gone::Truncated));
        }
        self.end = after;
        Ok(Landed::Kept)
    }
}

/// tracing-appender on the file `handle` is open on: through `/proc/self/fd/N` where
/// there is one (the very inode, never what a link at the path points to), else by
/// its path (`true`: the caller then checks the path still names `handle`'s file).
fn appender_on(
    handle: &File,
    dir: &Path,
    file_name: &str,
) -> Result<(RollingFileAppender, bool), tracing_appender::rolling::InitError> {
    let builder = || RollingFileAppender::builder().rotation(Rotation::NEVER);
    // Checked first: tracing-appender creates a missing folder, and must not make a
    // `/proc` of its own on a system that has none.
    let fds = Path::new("/proc/self/fd");
    if fds.is_dir() {
        let fd = handle.as_raw_fd().to_string();
        if let Ok(a) = builder().filename_prefix(fd).build(fds) {
            return Ok((a, false));
        }
    }
    Ok((builder().filename_prefix(file_name).build(dir)?, true))
}

/// How long the size of a file that ends mid-line must stay the same before its last
/// line counts as torn (see [`torn_tail`]), and how many times it is looked at.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(50);
const SETTLE_LOOKS: usize = 20;

/// Whether the file (`len` bytes at open) ends with a line no writer is finishing: a
/// write cut short by a crash or a full disk.
///
/// A file that ends mid-line when the target starts is not always torn: other
/// processes' targets may append to the same file, and while one's `write(2)` of a
/// batch is half done the file's size (updated page by page) can end inside a line
/// that the same call completes a moment later. Taking that for a crash's fragment
/// started our first batch with a needless `\n`, a blank line and a false warning
/// (CI 94, `concurrent_emitters_write_whole_lines`). So the end counts as torn only
/// when it still ends mid-line after the size stayed the same over two `pause`s in a
/// row; a size that ends with `\n` at any look is not torn (a later crash of another
/// writer is that writer's to mend when it restarts). A writer that keeps the file
/// growing mid-line for every look (`SETTLE_LOOKS`) is taken as torn: the cost of
/// being wrong that way is one blank line, which readers skip.
fn torn_tail(file: &mut File, mut len: u64, mut pause: impl FnMut()) -> bool {
    let mut still = 0;
    for _ in 0..SETTLE_LOOKS {
        if !ends_mid_line(file, len) {
            return false;
        }
        if still == 2 {
            return true;
        }
        pause();
        let now = file.metadata().map(|m| m.len()).unwrap_or(len);
        still = if now == len { still + 1 } else { 0 };
        len = now;
    }
    true
}

/// Whether the file is non-empty and its last byte is not `\n`.
fn ends_mid_line(file: &mut File, len: u64) -> bool {
    let mut last = [0u8; 1];
    len > 0
        && file.seek(SeekFrom::Start(len - 1)).is_ok()
        && file.read_exact(&mut last).is_ok()
        && last[0] != b'\n'
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A file already there (an earlier run killed before it synced the folder, or
    /// the size rotation's probe): the open syncs its folder all the same.
    #[test]
    fn opening_an_existing_file_syncs_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("audit.log"), b"{\"a\":1}\n").unwrap();
        super::super::tests::take_synced();
        let _f = ActiveFile::open(dir.path(), "audit.log", true, None).unwrap();
        assert_eq!(
            super::super::tests::take_synced(),
            vec![dir.path().to_path_buf()]
        );
    }

    #[test]
    fn a_write_into_a_file_deleted_before_the_check_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = ActiveFile::open(dir.path(), "audit.log", true, None).unwrap();
        assert_eq!(f.write(b"{\"a\":1}\n", true).unwrap(), Landed::Kept);
        fs::remove_file(dir.path().join("audit.log")).unwrap();
        assert!(!f.is_at_path().unwrap());
        assert_eq!(
            f.write(b"{\"a\":2}\n", true).unwrap(),
            Landed::Lost(Gone::Deleted)
        );
    }

    #[test]
    fn a_write_into_a_moved_file_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = ActiveFile::open(dir.path(), "audit.log", true, None).unwrap();
        fs::rename(dir.path().join("audit.log"), dir.path().join("old.log")).unwrap();
        assert_eq!(
            f.write(b"{\"a\":1}\n", false).unwrap(),
            Landed::Lost(Gone::Moved)
        );
        // And when a new file took the name.
        let mut g = ActiveFile::open(dir.path(), "audit.log", true, None).unwrap();
        fs::rename(dir.path().join("audit.log"), dir.path().join("old2.log")).unwrap();
        fs::write(dir.path().join("audit.log"), b"").unwrap();
        assert_eq!(
            g.write(b"{\"a\":1}\n", false).unwrap(),
            Landed::Lost(Gone::Moved)
        );
    }

    #[test]
    fn a_truncated_file_is_written_at_its_new_end_without_holes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let mut f = ActiveFile::open(dir.path(), "audit.log", true, None).unwrap();
        assert_eq!(
            f.write(b"{\"a\":1}\n{\"a\":2}\n", true).unwrap(),
            Landed::Kept
        );
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(f.write(b"{\"a\":3}\n", true).unwrap(), Landed::Kept);
        assert_eq!(fs::read(&path).unwrap(), b"{\"a\":3}\n");
    }

    #[test]
    fn a_torn_last_line_is_followed_by_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        fs::write(&path, b"{\"a\":1}\n{\"a\":").unwrap();
        let mut f = ActiveFile::open(dir.path(), "audit.log", true, None).unwrap();
        assert_eq!(f.write(b"{\"a\":3}\n", false).unwrap(), Landed::Kept);
        assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}\n{\"a\":\n{\"a\":3}\n");
    }

    /// Another process's write into the file is half done when the target starts: the
    /// file ends mid-line, and the rest of the line comes while the target looks again.
    /// Not torn (a new line would leave a blank line and warn of a crash that was not).
    #[test]
    fn a_line_another_writer_finishes_while_we_look_is_not_torn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        fs::write(&path, b"{\"a\":1}\n{\"a\":").unwrap();
        let mut file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let mut other = fs::OpenOptions::new().append(true).open(&path).unwrap();
        let mut parts = [&b"2"[..], b"}\n"].into_iter();
        let finish = || {
            if let Some(part) = parts.next() {
                other.write_all(part).unwrap();
            }
        };
        assert!(!torn_tail(&mut file, len, finish));
    }

    /// A fragment whose size stays the same is a torn line, however long one looks.
    #[test]
    fn a_fragment_nobody_finishes_is_torn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        fs::write(&path, b"{\"a\":1}\n{\"a\":").unwrap();
        let mut file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let mut pauses = 0;
        assert!(torn_tail(&mut file, len, || pauses += 1));
        assert_eq!(pauses, 2, "two looks at an unchanged size decide");
        // And a file that ends with a whole line is not looked at twice.
        fs::write(&path, b"{\"a\":1}\n").unwrap();
        assert!(!torn_tail(&mut file, 8, || panic!("no pause needed")));
    }
}
