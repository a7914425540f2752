//! The spool folder removed between the spool's check that it holds the folder and
//! the record of a loss in `lost.jsonl` (another program racing the spool: a cleanup
//! job's `rm -rf`): the record does not make the folder again. Made again by it, the
//! folder held no lock (another process could lock it and take it for its own) and
//! the next append took the folder for one whose lock file alone was replaced, not
//! reporting the folder's removal. The record fails as when the folder is found gone
//! before it; the next append takes the folder back, locked, and says it was removed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::folder_gone::tests::{hook_in, no_hook_in};
use super::gone::LostSegments;
use super::{record, Spool, SpoolFsync, SpoolOptions};
use crate::metrics::Metrics;

fn records(from: usize, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in from..from + n {
        record::encode_payload(format!("{{\"i\":{i}}}").as_bytes(), &mut buf);
    }
    buf
}

#[test]
fn a_folder_removed_before_a_loss_is_recorded_is_not_made_again_by_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("spool");
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.clone(),
            max_bytes: 1 << 20,
            segment_bytes: 1 << 20,
            fsync: SpoolFsync::Always,
        },
        Arc::new(Metrics::default()),
    )
    .unwrap();
    spool.append(&records(0, 2), 2).unwrap();

    // Removed right after the check, once.
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    hook_in(
        &dir,
        Box::new(move |d: &Path| {
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                std::fs::remove_dir_all(d).unwrap();
            }
        }),
    );
    let ((), log) = auditrail_core::testing::logged(|| {
        spool.keep_lost(&LostSegments {
            found_at: None,
            first: 0,
            last: 0,
            records: Some(2),
            bytes: None,
            reason: "its path is gone".into(),
            cut_to: None,
            in_flight: None,
        });
    });
    no_hook_in(&dir);
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the hook did not run");
    assert!(
        std::fs::symlink_metadata(&dir).is_err(),
        "the record of a loss made the spool folder again, with no lock in it"
    );
    assert!(log.contains("no longer this spool's"), "{log}");

    // The next append takes the folder back, locked, as removed.
    let (appended, log) = auditrail_core::testing::logged(|| spool.append(&records(2, 1), 1));
    appended.unwrap();
    assert!(
        dir.join(auditrail_core::folder_lock::LOCK_FILE).is_file(),
        "the folder taken back has no lock file"
    );
    assert!(spool.holds_folder());
    assert!(
        log.contains("the spool folder was removed by another program"),
        "{log}"
    );
}
