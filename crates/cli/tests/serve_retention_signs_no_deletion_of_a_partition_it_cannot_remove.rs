//! A retention pass whose plan holds a partition it cannot remove (its folder made
//! read-only by a restore or backup tool) leaves that partition out of its signed
//! deletion line: the line covers exactly the partitions the pass removed. It used to
//! sign the whole plan before it removed anything, so the store carried a signed
//! deletion of records still there (`verify`: `deletion-incomplete`) until a later
//! pass removed them (final60/01). The partition left out is named (a warning with
//! its folder and the OS error, the pass's `partitions_unremovable`, `retention
//! failed` with the same, counted in `retentionFailures`), is not counted as deleted,
//! and the next pass, once the folder is fixed, deletes it with a line of its own.
//!
//! The server runs as a user the file modes stop (as root, uid 65534: see
//! `tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::{
    day_folder, node_deleted, retention_counts, set_mode, stats, store_of_two_keys,
};
use crate::serve_support::{segment_files, stored_ids, wait_for_log};
use crate::tamper_support::{stop, strip_ansi, try_start_unprivileged, verify};

/// The kinds of the first store's problems, with their severity.
fn problems(report: &serde_json::Value) -> Vec<String> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p["severity"], p["kind"]))
        .collect()
}

/// The partitions each deletion line of the store's checkpoint log names, in order.
fn signed_deletions(store: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(store.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|line| {
            let partitions = line["deleted"]["partitions"].as_array()?.clone();
            Some(
                partitions
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn the_signed_line_names_only_what_was_removed_and_the_next_pass_takes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_two_keys(dir.path(), "");
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let locked = day_folder(&store, "r1", "2025-01-02");
    set_mode(&locked, 0o555);

    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    wait_for_log(&server, "retention failed");
    let log = strip_ansi(&server.stderr());
    let first = stats(&server);
    assert_eq!(stop(server), 0);

    // One line, naming the seven partitions removed and not the locked one.
    let lines = signed_deletions(&store);
    assert_eq!(lines.len(), 1, "{lines:?}\n{log}");
    assert_eq!(lines[0].len(), 7, "{lines:?}");
    assert!(
        !lines[0].iter().any(|p| p == "generic/r1/2025/01/02"),
        "{lines:?}"
    );
    assert_eq!(stored_ids(&store).len(), 9);

    // What the store says now is exactly what was signed: nothing deleted is left.
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(problems(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(report["stores"][0]["deletedRecords"], 21, "{report:#}");

    // Named: the partition, its folder and the OS error; the pass's line says one was
    // left out; the prune fails (counted) with the same.
    let warned = log
        .lines()
        .find(|l| l.contains("cannot be removed: not deleted"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(warned.contains("generic/r1/2025/01/02"), "{warned}");
    assert!(warned.contains("Permission denied"), "{warned}");
    let said = log
        .lines()
        .find(|l| l.contains("retention deleted time partitions"))
        .unwrap_or_else(|| panic!("{log}"));
    for field in ["partitions=7", "records=21", "partitions_unremovable=1"] {
        assert!(said.contains(field), "{field}: {said}");
    }
    let failed = log
        .lines()
        .find(|l| l.contains("retention failed"))
        .unwrap();
    assert!(
        failed.contains("generic/r1/2025/01/02") && failed.contains("Permission denied"),
        "{failed}"
    );
    assert_eq!(retention_counts(&first), [1, 7, 21, 1], "{first:#}");
    // node-r1's three records in the locked folder are not deleted.
    assert_eq!(node_deleted(&first, "node-r1"), 9, "{first:#}");
    assert_eq!(node_deleted(&first, "node-r2"), 12, "{first:#}");

    // Fixed: the next pass deletes it, with a line of its own.
    set_mode(&locked, 0o755);
    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    wait_for_log(&server, "retention deleted time partitions");
    let second = stats(&server);
    let log = strip_ansi(&server.stderr());
    assert_eq!(stop(server), 0);
    assert!(!log.contains("retention failed"), "{log}");
    assert!(!locked.exists());
    assert_eq!(segment_files(&store), 2);
    let lines = signed_deletions(&store);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1], ["generic/r1/2025/01/02"], "{lines:?}");
    assert_eq!(retention_counts(&second), [1, 1, 3, 0], "{second:#}");
    assert_eq!(node_deleted(&second, "node-r1"), 12, "{second:#}");

    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(problems(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(report["stores"][0]["deletedRecords"], 24, "{report:#}");
}
