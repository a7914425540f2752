//! Reading a file a user names (`--config`, `--public-key`, `keys public --key`): a
//! regular file or a pipe, never more than a bound.
//!
//! A pipe is legitimate there (`--config <(...)`, a secrets agent's FIFO): it is opened
//! as before, waiting for its writer, which is the user's own. What is never meant is a
//! device or a socket (a link gone wrong to `/dev/zero`, which reads without end and
//! took the server's memory at a SIGHUP), or a huge file (a log, a disk image): those
//! are refused at once, with [`NotRegularFile`] or [`FileTooLarge`], before anything past
//! the bound is read.

use std::fs::File;
use std::io;
use std::path::Path;

#[cfg(unix)]
use super::{kind_of, not_regular};
use super::{read_at_most, read_bounded};

/// The bytes of the file a user names at `path`: a regular file or a pipe of at most
/// `limit` bytes. A device, a socket or a larger file is refused with an error carrying
/// [`super::NotRegularFile`] or [`super::FileTooLarge`].
pub fn read_given(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let is_pipe = |meta: &std::fs::Metadata| meta.file_type().is_fifo();
        // `metadata` follows links, as the open does: `/dev/fd/63` of a `<(...)` is a pipe.
        if std::fs::metadata(path).is_ok_and(|m| is_pipe(&m)) {
            let file = File::open(path)?;
            // What was opened, not what the path held a moment before.
            let meta = file.metadata()?;
            if !is_pipe(&meta) && !meta.is_file() {
                return Err(not_regular(path, kind_of(&meta)));
            }
            return read_at_most(file, path, limit);
        }
    }
    read_bounded(path, limit)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use super::super::{FileTooLarge, NotRegularFile};
    use super::*;

    #[test]
    fn a_device_is_refused_and_a_regular_file_or_a_pipe_is_read_within_the_bound() {
        let e = read_given(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(e.get_ref().unwrap().is::<NotRegularFile>(), "{e}");

        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("c.toml");
        std::fs::write(&file, b"a = 1\n").unwrap();
        assert_eq!(read_given(&file, 6).unwrap(), b"a = 1\n");
        let e = read_given(&file, 5).unwrap_err();
        assert!(e.get_ref().unwrap().is::<FileTooLarge>(), "{e}");

        let fifo = tmp.path().join("fifo.toml");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                // More than the bound: the reader stops past it (the write may then
                // fail with a broken pipe, which is the reader's doing).
                let _ = w.write_all(&[b'#'; 4096]);
            })
        };
        let e = read_given(&fifo, 1024).unwrap_err();
        assert!(e.get_ref().unwrap().is::<FileTooLarge>(), "{e}");
        drop(writer.join());
    }
}
