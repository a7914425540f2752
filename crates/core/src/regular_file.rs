//! Opening the files of a data dir (a store's segments, checkpoint log and id, the
//! signing key, the high-water marks, the acceptances, a witness's or a source's state)
//! so that the open cannot block, and refusing anything there that is not a regular
//! file.
//!
//! A plain `open(2)` of a FIFO waits for the other end (for ever, at start: the server
//! neither listens nor ends on SIGTERM, its handler never reached), and reading a
//! character device or a socket never ends or fails obscurely. Such a file in a data
//! dir is a mistake (or someone's doing): every open here adds `O_NONBLOCK`, which makes
//! opening a FIFO or device return at once, then checks with `fstat` what was opened
//! and refuses anything but a regular file with [`NotRegularFile`], naming the path and
//! what it is (`PATH: is a FIFO (named pipe), not a regular file: ...`: every error of
//! this module names its path first, once, as [`crate::durable::NotAFolder`] does; a
//! caller that names the path too says it with [`crate::path_and_error`]). A regular file is then used as any other (`O_NONBLOCK` is cleared again:
//! it means nothing for regular files, but the handle is given back as a plain one).
//!
//! The same holds for the files a config names (TLS certificates and keys, CA files):
//! a FIFO there (a secrets agent's, a hung mount's) must not hang a start or a reload,
//! nor a device (`/dev/zero`) be read for ever: those are read with
//! [`read_bounded`].
//!
//! Folders keep the errors they gave before (`EISDIR`), which callers classify.
//!
//! Not for files a user names on the command line (`--config`, `--public-key`): a
//! process substitution `<(...)` is a pipe there, and legitimate; those are read with
//! [`read_given`] (a regular file or a pipe, bounded in size and, for a pipe, in time;
//! a device or socket refused; a pipe refused when read again at a reload). On platforms
//! other than Unix files are opened as before.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

mod given;
pub use given::{read_given, PipeNotReread, PipeNotWritten, Reading, PIPE_WAIT};

/// What a path holds instead of a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    /// A FIFO (named pipe).
    Fifo,
    /// A Unix-domain socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else that is neither a regular file nor a folder.
    Other,
}

impl std::fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SpecialKind::Fifo => "a FIFO (named pipe)",
            SpecialKind::Socket => "a socket",
            SpecialKind::CharDevice => "a character device",
            SpecialKind::BlockDevice => "a block device",
            SpecialKind::Other => "a special file",
        })
    }
}

/// A file auditrail keeps in a data dir is not a regular file: it is not read nor
/// written. Carried as the source of an [`io::Error`]; see [`is_not_regular`]. Its
/// message begins with the path (`PATH: is ...`), as every error about one path does:
/// a caller naming the path too says it once with [`crate::path_and_error`].
#[derive(Debug, Error)]
#[error(
    "{}: is {kind}, not a regular file: refused (auditrail keeps only regular files \
     there; remove it and put the file back, e.g. from a backup)",
    path.display()
)]
pub struct NotRegularFile {
    /// The path opened.
    pub path: PathBuf,
    /// What it is.
    pub kind: SpecialKind,
}

/// Opens `path` with `options` without blocking, refusing anything that is not a
/// regular file with an error carrying [`NotRegularFile`] (see the module docs).
/// `options` must not carry custom flags (they are replaced by `O_NONBLOCK`).
pub fn open(options: &OpenOptions, path: &Path) -> io::Result<File> {
    open_with(options, path, false)
}

/// [`open`], also refusing a symbolic link at `path` with an error carrying
/// [`crate::no_follow::SymbolicLinkRefused`] (`O_NOFOLLOW`): for the files auditrail
/// creates or writes in its own folders (lock files, dead letters), where a link
/// would send what it writes elsewhere and a FIFO would block the open or the read.
pub fn open_no_follow(options: &OpenOptions, path: &Path) -> io::Result<File> {
    open_with(options, path, true)
}

#[cfg_attr(not(unix), allow(unused_variables))]
fn open_with(options: &OpenOptions, path: &Path, no_follow: bool) -> io::Result<File> {
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let mut options = options.clone();
        let flags = if no_follow {
            OFlags::NONBLOCK | OFlags::NOFOLLOW
        } else {
            OFlags::NONBLOCK
        };
        // The bits fit an i32: O_NONBLOCK and O_NOFOLLOW are single low flags on
        // every Unix.
        options.custom_flags(flags.bits() as i32);
        let file = options.open(path).map_err(|e| {
            let e = if no_follow {
                crate::no_follow::refused_if_link(path, e)
            } else {
                e
            };
            if crate::no_follow::is_symbolic_link(&e) {
                return e;
            }
            // A FIFO opened for writing with no reader, or a socket: `ENXIO`.
            match special_kind(std::fs::metadata(path).ok().as_ref()) {
                Some(kind) => not_regular(path, kind),
                None => e,
            }
        })?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            // What `read(2)` of a folder answers: the error callers had before.
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::ISDIR.raw_os_error(),
            ));
        }
        if let Some(kind) = special_kind(Some(&meta)) {
            return Err(not_regular(path, kind));
        }
        let flags = rustix::fs::fcntl_getfl(&file)?;
        rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK)?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

/// Reads the whole regular file at `path` ([`std::fs::read`] through [`open`]).
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open(OpenOptions::new().read(true), path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads the whole regular file at `path` as UTF-8 ([`std::fs::read_to_string`]
/// through [`open`]).
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let mut file = open(OpenOptions::new().read(true), path)?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

/// A file read with a bound ([`read_bounded`]) holds more than the bound: it is not
/// read. Carried as the source of an [`io::Error`]; like [`NotRegularFile`], its
/// message begins with the path.
#[derive(Debug, Error)]
#[error(
    "{}: holds {size} bytes or more, more than the {limit} bytes such a file may hold: \
     refused (not the file meant?)",
    path.display()
)]
pub struct FileTooLarge {
    /// The path read.
    pub path: PathBuf,
    /// Its size as read (at least; the read stops past the bound).
    pub size: u64,
    /// The bound, bytes.
    pub limit: u64,
}

/// [`read`] of a file that has no business being large (a PEM certificate or key, a
/// key file a config names): more than `limit` bytes is refused with an error carrying
/// [`FileTooLarge`], before anything past the bound is read, so that a path naming a
/// huge file (a disk image, a log) cannot take the process's memory. The bound holds
/// for a file that grows while it is read, too.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open(OpenOptions::new().read(true), path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(path, size, limit));
    }
    read_at_most(file, path, limit)
}

/// The bytes of `file` (at `path`), refused with [`FileTooLarge`] past `limit` bytes,
/// of which no more than one is read.
fn read_at_most(file: File, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(too_large(path, read, limit));
    }
    Ok(bytes)
}

fn too_large(path: &Path, size: u64, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        FileTooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        },
    )
}

/// Whether `e` is a refused special file ([`NotRegularFile`]).
pub fn is_not_regular(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<NotRegularFile>().is_some())
}

fn not_regular(path: &Path, kind: SpecialKind) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        NotRegularFile {
            path: path.to_path_buf(),
            kind,
        },
    )
}

/// What `meta` describes, as [`SpecialKind`] says it (`a special file` for a regular
/// file or a folder too: callers ask only of what is neither).
pub(crate) fn kind_of(meta: &std::fs::Metadata) -> SpecialKind {
    special_kind(Some(meta)).unwrap_or(SpecialKind::Other)
}

/// What `meta` describes when it is neither a regular file nor a folder.
fn special_kind(meta: Option<&std::fs::Metadata>) -> Option<SpecialKind> {
    let t = meta?.file_type();
    if t.is_file() || t.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some(SpecialKind::Fifo);
        }
        if t.is_socket() {
            return Some(SpecialKind::Socket);
        }
        if t.is_char_device() {
            return Some(SpecialKind::CharDevice);
        }
        if t.is_block_device() {
            return Some(SpecialKind::BlockDevice);
        }
    }
    Some(SpecialKind::Other)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_fifo_is_refused_at_once_for_reading_and_for_appending() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("checkpoints.jsonl");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = read(&fifo).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        // The path said once, first, whoever names it too.
        let said = format!(
            "{}: is a FIFO (named pipe), not a regular file",
            fifo.display()
        );
        assert!(e.to_string().starts_with(&said), "{e}");
        assert!(
            crate::path_and_error(&fifo, &e).starts_with(&said),
            "{}",
            crate::path_and_error(&fifo, &e)
        );
        let inner = e
            .get_ref()
            .unwrap()
            .downcast_ref::<NotRegularFile>()
            .unwrap();
        assert_eq!(
            (inner.path.as_path(), inner.kind),
            (fifo.as_path(), SpecialKind::Fifo)
        );
        let e = open(OpenOptions::new().append(true), &fifo).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
    }

    #[test]
    fn a_bounded_read_refuses_a_file_past_the_bound_and_reads_one_at_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("tls.key");
        std::fs::write(&file, [b'k'; 10]).unwrap();
        assert_eq!(read_bounded(&file, 10).unwrap().len(), 10);
        let e = read_bounded(&file, 9).unwrap_err();
        let inner = e.get_ref().unwrap().downcast_ref::<FileTooLarge>().unwrap();
        assert_eq!((inner.size, inner.limit), (10, 9));
        let said = format!(
            "{}: holds 10 bytes or more, more than the 9 bytes",
            file.display()
        );
        assert!(e.to_string().starts_with(&said), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), 9).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
    }

    #[test]
    fn a_character_device_is_refused() {
        let e = read(Path::new("/dev/null")).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        assert!(e.to_string().contains("a character device"), "{e}");
    }

    #[test]
    fn regular_files_and_links_to_them_read_as_before_and_folders_keep_their_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("store-id");
        std::fs::write(&file, "id\n").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_to_string(&link).unwrap(), "id\n");
        let f = open(OpenOptions::new().append(true), &file).unwrap();
        let flags = rustix::fs::fcntl_getfl(&f).unwrap();
        assert!(!flags.contains(rustix::fs::OFlags::NONBLOCK));
        let e = read(tmp.path()).unwrap_err();
        assert_eq!(
            e.raw_os_error(),
            Some(rustix::io::Errno::ISDIR.raw_os_error())
        );
        let e = read(&tmp.path().join("none")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
