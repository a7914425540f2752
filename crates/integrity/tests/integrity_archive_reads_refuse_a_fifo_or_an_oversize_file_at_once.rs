//! The files the archive checks read by name: an archived object in a downloaded
//! archive (`verify --archive`) and a store's file sent to the archive (a prune's
//! upload). A FIFO put at such a name was opened with a plain `open(2)`, which waits
//! for a writer for ever (the verify or the prune hung with no word), and an object
//! far larger than its signed size (a sparse file) was hashed to its end. Now they are
//! opened as the files of a data dir are: a FIFO is refused at once, naming it; an
//! object larger than recorded is refused from its size, unread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::mpsc;
use std::time::Duration;

use crate::retention_support;

use auditrail_integrity::verify::{self, NoProgress, ProblemKind, VerifyOptions};
use auditrail_integrity::ArchiveError;
use retention_support::{archive_in, archived_objects, mkfifo, Store};

/// Long enough for any run that does not hang; a hang fails the test instead of
/// holding it (no timing is asserted).
const HANG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_or_an_oversize_file_is_refused_at_once_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("archive");
    let archive = archive_in(&folder);
    let mut store = Store::new();
    let open = store.open();
    let objects = archived_objects(&mut store, &open, &archive).await;
    assert!(objects.len() >= 2, "{objects:?}");

    // `verify --archive`: the downloaded copy, one object a FIFO, one a sparse 1 TiB
    // file.
    let copy = tempfile::tempdir().unwrap();
    assert!(archive.download(copy.path()).await.unwrap() > 0);
    let (fifo, huge) = (&objects[0], &objects[1]);
    std::fs::remove_file(copy.path().join(&fifo.path)).unwrap();
    mkfifo(&copy.path().join(&fifo.path));
    let big = std::fs::OpenOptions::new()
        .write(true)
        .open(copy.path().join(&huge.path))
        .unwrap();
    big.set_len(1 << 40).unwrap();
    drop(big);
    let options = VerifyOptions {
        public_key: Some(*store.signer.public_key()),
        ..VerifyOptions::default()
    };
    let (tx, rx) = mpsc::channel();
    let at = copy.path().to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(verify::verify_archive(&at, &options, &NoProgress).unwrap());
    });
    let report = rx
        .recv_timeout(HANG)
        .expect("the verify of the archive hung");
    let problems: Vec<(Option<String>, String)> = report.stores[0]
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::ArchivedObject)
        .map(|p| (p.file.clone(), p.message.clone()))
        .collect();
    let of = |path: &str| {
        problems
            .iter()
            .find(|(f, _)| f.as_deref() == Some(path))
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("{path} not named: {problems:?}"))
    };
    let said = of(&fifo.path);
    assert!(
        said.starts_with(&format!(
            "archived object {}: cannot be read: is a FIFO (named pipe), not a regular file: refused",
            fifo.path
        )),
        "{said}"
    );
    let said = of(&huge.path);
    assert!(
        said.starts_with(&format!(
            "archived object {}: the archive has {} bytes or more (changed after it was archived; not read past the size recorded); checkpoint #",
            huge.path,
            1u64 << 40
        )),
        "{said}"
    );
    assert!(!report.ok);

    // A prune's upload: a store file that is a FIFO is refused at once, naming it.
    let local = dir.path().join("piece.fifo");
    mkfifo(&local);
    let upload = match tokio::time::timeout(HANG, archive.upload(&local, "fifo/segment")).await {
        Ok(upload) => upload,
        Err(_) => {
            // A writer lets the open waiting on it return (the runtime would wait for
            // it at its end).
            use std::os::unix::fs::OpenOptionsExt;
            let _writer = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(&local);
            panic!("the upload hung");
        }
    };
    match upload {
        Err(ArchiveError::Local { path, source }) => {
            assert_eq!(path, local);
            assert!(
                // The error that carries the path names it first, once.
                source.to_string().starts_with(&format!(
                    "{}: is a FIFO (named pipe), not a regular file",
                    local.display()
                )),
                "{source}"
            );
        }
        other => panic!("{other:?}"),
    }
}
