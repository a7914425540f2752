//! A store owing a recovery (the undo of a failed batch could not complete: it re-scans
//! its folder before the next write, `recover_in_place`) whose folder was moved away
//! meanwhile (`mv data data.old`, the store inside): the next write made the folder
//! again at its path (`create_dir_all` of the root) and recovered an empty store
//! there, so the moved folder could not go back (`mv data.old data` nests it) and the
//! store's state was split across two folders. Now that write fails and nothing is
//! made at the path; once the folder is back, the recovery runs in it and the batch is
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use auditrail_testkit::store::{events, stored_in};

use super::tests::{no_sync_hook_under, sync_hook_under};

#[test]
fn a_recovery_owed_while_the_store_is_moved_away_waits_for_it_to_be_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = crate::StoreTarget::open(&root, &config, "store").unwrap();

    // The first batch's fsync fails (as a disk's would), and its undo cannot remove the
    // segment it made: a folder is at that name now (what an undo meets that is not
    // `NotFound`). The store owes a recovery before its next write.
    let planted: Arc<std::sync::Mutex<Vec<PathBuf>>> = Arc::default();
    let once = Arc::new(AtomicBool::new(false));
    let (seen, ran) = (planted.clone(), once.clone());
    sync_hook_under(
        &root,
        Arc::new(move |files: &[PathBuf]| {
            if ran.swap(true, Ordering::SeqCst) {
                return Ok(());
            }
            for f in files {
                std::fs::remove_file(f).unwrap();
                std::fs::create_dir(f).unwrap();
                seen.lock().unwrap().push(f.clone());
            }
            Err(io::Error::from_raw_os_error(5))
        }),
    );
    t.send_blocking(&events(1, 10)).unwrap_err();
    no_sync_hook_under(&root);
    assert!(once.load(Ordering::SeqCst));
    let planted = planted.lock().unwrap().clone();
    assert!(!planted.is_empty());
    for p in &planted {
        assert!(p.is_dir(), "the undo left {} in place", p.display());
        std::fs::remove_dir(p).unwrap();
    }

    // The store's folder moved away: the write that owes the recovery fails, and
    // nothing is made at its path.
    let moved = dir.path().join("store.old");
    std::fs::rename(&root, &moved).unwrap();
    let e = t.send_blocking(&events(11, 10)).unwrap_err();
    assert!(
        !root.exists(),
        "the store's folder was made again at its path: {e}"
    );

    // Back: the recovery runs in it and the batch is written.
    std::fs::rename(&moved, &root).unwrap();
    t.send_blocking(&events(11, 10)).unwrap();
    let mut seqs: Vec<u64> = stored_in(&root).iter().map(|(_, e)| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (11..=20).collect::<Vec<_>>());
}
