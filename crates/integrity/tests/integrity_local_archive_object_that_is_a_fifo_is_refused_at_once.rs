//! The reads of a `file://` archive go through `object_store`'s `LocalFileSystem`,
//! which opens a file with a blocking `open(2)`: an archived object, the archive's
//! checkpoint log or its `store-id` replaced by a FIFO held `verify DATA_DIR --archive`
//! (and a prune's read-back) for good, with no word. Every operation on such an object
//! now refuses it at once, naming it, as the files of a data dir are.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::retention_support;

use auditrail_integrity::ArchiveError;
use retention_support::{archive_in, archived_objects, mkfifo, Store};

/// Long enough for any run that does not hang; a hang fails the test instead of
/// holding it (no timing is asserted).
const HANG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_a_fifo_in_a_local_archive_are_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("archive");
    let archive = archive_in(&folder);
    let mut store = Store::new();
    let open = store.open();
    let objects = archived_objects(&mut store, &open, &archive).await;
    let object = objects.first().unwrap().clone();
    let at = folder.join(&object.path);
    assert!(at.is_file(), "{}", at.display());
    std::fs::remove_file(&at).unwrap();
    mkfifo(&at);

    let read_back = tokio::time::timeout(HANG, archive.read_back(&object)).await;
    let read = tokio::time::timeout(HANG, archive.read(&object.path)).await;
    if read_back.is_err() || read.is_err() {
        // A writer lets the blocked open return (the runtime would wait for it).
        use std::os::unix::fs::OpenOptionsExt;
        for _ in 0..2 {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(&at);
        }
        panic!("a read of the FIFO hung");
    }
    for answer in [read_back.unwrap().map(drop), read.unwrap().map(drop)] {
        match answer {
            Err(ArchiveError::Local { path, source }) => {
                assert_eq!(path, at);
                assert!(
                    source.to_string().contains("is a FIFO (named pipe)"),
                    "{source}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
