//! The folder of a running spool is removed (`rm -rf`), and another process creates it
//! again and locks it before this spool appends again (another `auditrail send` with
//! the same node config, say). The lock this spool holds is then an unlinked file: it
//! must not go on in the folder as if it were alone. Its appends fail at once naming
//! the holder, and neither they nor its acknowledgements write anything there; once the other process lets go, the spool takes
//! the folder back and goes on.
//!
//! The other process is played by a second `FolderLock` in this process: the lock
//! belongs to the open file, so it refuses this spool exactly as another process's
//! does (see `spool_folder_is_opened_by_one_spool_at_a_time.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use auditrail_core::FolderLock;
use auditrail_target_eventserver::spool::{record, Spool, SpoolError, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in from..from + n {
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    buf
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn appends_are_refused_while_another_holds_the_new_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.clone(),
            max_bytes: 1 << 20,
            segment_bytes: 1 << 20,
            fsync: SpoolFsync::Always,
        },
        Arc::default(),
    )
    .unwrap();
    spool.append(&records(0, 2), 2).unwrap();

    std::fs::remove_dir_all(&dir).unwrap();
    let other = FolderLock::acquire(&dir).unwrap();
    let before = names(&dir);

    let err = spool.append(&records(2, 1), 1).unwrap_err();
    match &err {
        SpoolError::InUse { dir: d, .. } => assert_eq!(d, &dir),
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(err.to_string().contains("is in use by"), "{err}");
    assert_eq!(names(&dir), before, "nothing was written to the folder");
    // The sender acknowledging what it delivered writes nothing there either.
    spool.ack(spool.end(), 2);
    assert_eq!(names(&dir), before, "no ack file was written to the folder");

    drop(other);
    spool
        .append(&records(2, 1), 1)
        .expect("once the other one let go, the spool goes on");
    assert!(
        names(&dir).iter().any(|n| n.ends_with(".seg")),
        "{:?}",
        names(&dir)
    );
}
