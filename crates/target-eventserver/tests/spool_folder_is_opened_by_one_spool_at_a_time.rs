//! A spool folder is opened by one spool at a time: a second `Spool::open` of a folder
//! that a live spool uses (here in the same process; another process is refused the
//! same way) is refused at once, naming the folder, and changes nothing in it. Two
//! spools on one folder would send each other's records, acknowledge past them and
//! delete the segment the other still appends to. Once the first is dropped, the
//! folder opens again with every record still to send.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use auditrail_target_eventserver::spool::{record, Spool, SpoolError, SpoolOptions};
use auditrail_target_eventserver::SpoolFsync;

fn open(dir: &Path) -> Result<Spool, SpoolError> {
    let opts = SpoolOptions {
        dir: dir.to_owned(),
        max_bytes: 1 << 20,
        segment_bytes: 1 << 20,
        fsync: SpoolFsync::Always,
    };
    Spool::open(opts, Arc::default())
}

fn records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in from..from + n {
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    buf
}

fn files(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .filter(|(name, _)| name != "auditrail.lock")
        .collect();
    v.sort();
    v
}

#[test]
fn a_second_spool_on_a_folder_in_use_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = Arc::new(open(dir.path()).unwrap());
    first.append(&records(0, 5), 5).unwrap();
    let before = files(dir.path());

    let err = open(dir.path()).unwrap_err();
    let msg = err.to_string();
    match &err {
        SpoolError::InUse { dir: d, holder } => {
            assert_eq!(d, dir.path(), "{msg}");
            assert!(holder.contains(&std::process::id().to_string()), "{msg}");
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert_eq!(
        files(dir.path()),
        before,
        "the refused open changed nothing"
    );

    // The first spool keeps its folder: what it appends now is read back.
    first.append(&records(5, 2), 2).unwrap();
    assert_eq!(first.pending_events(), 7);
    drop(first);
    let again = open(dir.path()).unwrap();
    assert_eq!(again.pending_events(), 7, "every record is still to send");
}
