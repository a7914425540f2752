//! A partition folder the store may not write (a day folder restored as another user,
//! its mode reset, or made immutable: `EACCES`/`EPERM` when making the hour folder in
//! it) costs the events of that partition only, and only until an operator fixes it:
//! they are refused for now (`TargetError::PartlyTaken`, retry later, with a reason that
//! names the folder and the OS error), every other event of the batch is written and
//! chained, the next batches are written as usual, and once the folder is writable again
//! the same events are stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use auditrail_core::TargetError;
use auditrail_testkit::unwritable::Unwritable;
use serde_json::json;
use store_support::*;

#[test]
fn events_of_an_unwritable_partition_are_refused_for_now_and_the_rest_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    // The day folder exists (an earlier hour was written); the 11 o'clock folder not yet.
    t.send_blocking(&[event("generic", None, "2026-11-30T10:00:00Z", 1)])
        .unwrap();
    let day = root.join("generic/_none/2026/11/30");
    let locked = match Unwritable::make(&day) {
        Ok(l) => l,
        Err(why) => {
            auditrail_testkit::prereq::skip(&format!(
                "cannot make a folder unwritable here: {why}"
            ));
            return;
        }
    };

    let blocked = |seq| event("generic", None, "2026-11-30T11:00:00Z", seq);
    let batch = vec![
        blocked(2),
        event("authfail", None, "2026-11-30T11:00:00Z", 3),
        blocked(4),
        event("generic", None, "2026-11-30T10:30:00Z", 5),
    ];
    let Err(TargetError::PartlyTaken {
        retry_later,
        rejected,
    }) = t.send_blocking(&batch)
    else {
        panic!("the events of the unwritable partition must be refused for now, the rest taken");
    };
    assert!(rejected.is_empty(), "{rejected:?}");
    let indices: Vec<usize> = retry_later.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [0, 2]);
    let reason = &retry_later[0].1;
    assert!(
        reason.contains("generic/_none/2026/11/30/11")
            && (reason.contains("os error 13") || reason.contains("os error 1)")),
        "the reason names the folder and the OS error: {reason}"
    );
    let mut stored: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    stored.sort_unstable();
    assert_eq!(stored, [1, 3, 5]);
    assert_eq!(verify_chain(&root).seq, 3);

    // The next batch, into writable partitions, is written at once; the same partition
    // again is refused again, alone.
    t.send_blocking(&[event("authfail", None, "2026-11-30T12:00:00Z", 6)])
        .unwrap();
    let Err(TargetError::PartlyTaken { retry_later, .. }) = t.send_blocking(&[
        blocked(2),
        event("generic", Some("svc-b"), "2026-11-30T11:00:00Z", 7),
    ]) else {
        panic!("still refused for now, alone");
    };
    assert_eq!(retry_later.len(), 1);
    assert_eq!(t.handle().stats().refused_events, 3);

    // The operator fixes the folder: the refused events, sent again, are stored.
    drop(locked);
    t.send_blocking(&[blocked(2), blocked(4)]).unwrap();
    let mut stored: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    stored.sort_unstable();
    assert_eq!(stored, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(verify_chain(&root).seq, 7);
}
