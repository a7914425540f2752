//! `auditrail store accept` on a store a `kill -9` left (no restart in between) runs
//! the store's crash recovery first, as the next start does: the records of an
//! interrupted, never acknowledged batch (numbered after a missing chain number) are
//! cut and kept aside, not signed as the accepted head. Signed, the next start cut
//! them and then refused the store for having lost accepted records, so the server did
//! not start without another manual step (found by the crash torture of the offline
//! commands, `/work/tryout/crash/torture.py offline`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serve_support::{event_line, new_id, post_events, start};

#[test]
fn the_server_starts_after_accepting_a_killed_store() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path(), &["--data-dir", "data"]);
    for seq in 1..=3u64 {
        let body = event_line(&new_id(seq, 3), "node-a", seq) + "\n";
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    server.kill9();

    // What a kill in the middle of a batch over several files leaves: a record numbered
    // after a missing one, never acknowledged (the store's last record, its chainSeq
    // moved one past a gap).
    let store = root.path().join("data/store");
    let segment = auditrail_store::StoreFiles::walk(&store)
        .unwrap()
        .segments()
        .last()
        .unwrap()
        .path
        .clone();
    let text = std::fs::read_to_string(&segment).unwrap();
    let last = text.lines().last().unwrap();
    let head: serde_json::Value = serde_json::from_str(last).unwrap();
    let head = head["chainSeq"].as_u64().unwrap();
    let torn = last.replace(
        &format!("\"chainSeq\":{head},"),
        &format!("\"chainSeq\":{},", head + 2),
    );
    assert_ne!(torn, last);
    std::fs::write(&segment, format!("{text}{torn}\n")).unwrap();

    let accept = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "store",
            "accept",
            "--data-dir",
            "data",
            "--reason",
            "after a crash",
        ])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(
        accept.status.success(),
        "{}",
        String::from_utf8_lossy(&accept.stderr)
    );
    // What the recovery cut is said, and signed with the acceptance's findings.
    let said = String::from_utf8_lossy(&accept.stdout);
    assert!(
        said.contains("crash recovery: 1 record cut after the chain gap"),
        "{said}"
    );
    // The interrupted batch's record was cut (kept aside), as a start cuts it.
    let kept = std::fs::read_to_string(&segment).unwrap();
    assert_eq!(kept, text, "the never acknowledged record is cut");
    assert!(segment.with_extension("jsonl.cut").exists());

    // `start` fails the test when the server does not print its address.
    let server = start(root.path(), &["--data-dir", "data"]);
    assert_eq!(server.terminate(), 0);
}
