//! A FIFO (named pipe) at the data dir's lock file `auditrail.lock`. When another
//! process held an `flock` on it, `auditrail serve` found the lock taken and read the
//! holder's note from the FIFO: that read never ended, and the server neither listened
//! nor refused. Unheld, it took a "lock" on the pipe. A lock file is a regular file:
//! the FIFO is refused at once, held or not, naming the lock file and what it is; with
//! it removed, the server starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use std::os::fd::OwnedFd;

use tamper_support::try_start;

/// Opens the FIFO without blocking and holds an `flock` on it, as another process
/// would, until dropped.
fn hold_lock(path: &std::path::Path) -> OwnedFd {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDWR | OFlags::NONBLOCK, Mode::empty()).unwrap();
    rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive).unwrap();
    fd
}

#[cfg(unix)]
#[test]
fn a_fifo_lock_file_held_or_not_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), tamper_support::CONFIG).unwrap();
    let lock = dir.path().join("data/auditrail.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    tamper_support::make_fifo(&lock);
    for held in [true, false] {
        let holder = held.then(|| hold_lock(&lock));
        // Without the fix the held case panics here: "the server neither listened nor
        // exited"; the unheld one started.
        let (code, err) = match try_start(dir.path()) {
            Ok(server) => panic!("held {held}: started: {}", server.stderr()),
            Err(refused) => refused,
        };
        assert_ne!(code, 0, "held {held}: {err}");
        assert!(
            // `try_start` gives `--data-dir data`, relative.
            err.contains(
                "cannot lock the data dir data: data/auditrail.lock: is a FIFO (named pipe), \
                 not a regular file"
            ),
            "held {held}: {err}"
        );
        drop(holder);
    }
    std::fs::remove_file(&lock).unwrap();
    let server = try_start(dir.path()).expect("starts with the FIFO gone");
    assert_eq!(tamper_support::stop(server), 0);
}
