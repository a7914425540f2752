//! A retention pass that could not remove one partition (its folder made read-only)
//! and the pass that removes it once the folder is fixed count, between them, every
//! record the signed log records as deleted, once: the first counts the seven
//! partitions it removed, the second the one it left. The first used to count nothing
//! (final60/01): the two passes reported 3 of 24 records deleted. The store verifies
//! after each without a problem: the first pass leaves the partition it cannot remove
//! out of its signed line (it used to sign it, and `verify` warned
//! `deletion-incomplete` until the second pass), and the second deletes it.
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

#[test]
fn the_failed_pass_and_the_next_one_count_every_deleted_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_two_keys(dir.path(), "");
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let locked = day_folder(&store, "r1", "2025-01-02");
    set_mode(&locked, 0o555);

    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    wait_for_log(&server, "retention failed");
    let first = retention_counts(&stats(&server));
    assert_eq!(stop(server), 0);

    // The locked partition's three records are still there, signed as deleted by no
    // line.
    assert_eq!(stored_ids(&store).len(), 9);
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(problems(&report), Vec::<String>::new(), "{report:#}");

    // Fixed: the next start's pass removes it.
    set_mode(&locked, 0o755);
    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    wait_for_log(&server, "retention deleted time partitions");
    let stats = stats(&server);
    let log = strip_ansi(&server.stderr());
    let second = retention_counts(&stats);
    assert_eq!(stop(server), 0);
    assert!(!log.contains("retention failed"), "{log}");
    assert_eq!(segment_files(&store), 2);

    // Between them: one run each, 8 partitions, 24 records, the one failure.
    assert_eq!(first, [1, 7, 21, 1], "{log}");
    assert_eq!(second, [1, 1, 3, 0], "{log}");
    // Each node's twelve old numbers, counted once (not again by the second pass).
    assert_eq!(node_deleted(&stats, "node-r1"), 12, "{stats:#}");
    assert_eq!(node_deleted(&stats, "node-r2"), 12, "{stats:#}");

    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(problems(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(report["stores"][0]["deletedRecords"], 24, "{report:#}");
}
