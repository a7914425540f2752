//! A retention pass that cannot remove one of its partitions (its folder made
//! read-only by a restore or backup tool) removes every other one, and then fails. It
//! used to report none of them: `retentionRuns`, `retentionPartitionsDeleted`,
//! `retentionRecordsDeleted` (and their metrics) stayed 0, there was no `retention
//! deleted time partitions` line, and the nodes' `deleted` in `/v1/stats` stayed 0
//! until the next restart, while seven partitions were gone from disk: for an audit
//! store, what retention deleted is evidence (final60/01). Now the pass reports what it
//! removed, then the failure, naming the folder it could not remove (left out of its
//! signed line: `serve_retention_signs_no_deletion_of_a_partition_it_cannot_remove.rs`).
//!
//! The server runs as a user the file modes stop (as root, uid 65534: see
//! `tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::{
    day_folder, node_deleted, retention_counts, set_mode, stats, store_of_two_keys,
};
use crate::serve_support::{request, segment_files, wait_for_log};
use crate::tamper_support::{stop, strip_ansi, try_start_unprivileged};

#[test]
fn the_partitions_removed_are_counted_logged_and_told_to_their_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_two_keys(dir.path(), "");
    assert_eq!(segment_files(&store), 10);
    let locked = day_folder(&store, "r1", "2025-01-02");
    set_mode(&locked, 0o555);

    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    wait_for_log(&server, "retention failed");
    let log = strip_ansi(&server.stderr());
    let stats = stats(&server);
    let (status, metrics) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
    assert_eq!(stop(server), 0);
    set_mode(&locked, 0o755);

    // Seven of the eight old partitions are gone; the locked one and today's stay.
    assert_eq!(segment_files(&store), 3, "{log}");
    assert!(std::fs::read_dir(&locked).unwrap().next().is_some());

    // One pass that removed 7 partitions (21 records), and failed.
    assert_eq!(retention_counts(&stats), [1, 7, 21, 1], "{stats:#}\n{log}");
    // What it left out has a field of its own, not only a failure among the others.
    assert_eq!(
        (
            &stats["stores"]["a"]["retentionPartitionsUnremovable"],
            &stats["stores"]["a"]["retentionPartitionsMisplaced"]
        ),
        (&serde_json::json!(1), &serde_json::json!(0)),
        "{stats:#}"
    );
    for (metric, value) in [
        ("auditrail_server_store_retention_partitions_unremovable", 1),
        ("auditrail_server_store_retention_partitions_misplaced", 0),
        ("auditrail_server_store_retention_runs_total", 1),
        (
            "auditrail_server_store_retention_partitions_deleted_total",
            7,
        ),
        ("auditrail_server_store_retention_records_deleted_total", 21),
        ("auditrail_server_store_retention_failures_total", 1),
    ] {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{metric}{{destination=\"a\"}}")))
            .unwrap_or_else(|| panic!("{metric}: {metrics}"));
        assert!(line.ends_with(&format!(" {value}")), "{line}");
    }

    // Its line says what it removed and what it left; the error names the file left.
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("retention deleted time partitions"))
        .collect();
    assert_eq!(said.len(), 1, "{log}");
    for field in [
        "partitions=7",
        "records=21",
        "partitions_left=0",
        "partitions_unremovable=1",
    ] {
        assert!(said[0].contains(field), "{field}: {}", said[0]);
    }
    let failed = log
        .lines()
        .find(|l| l.contains("retention failed"))
        .unwrap();
    assert!(failed.contains("generic/r1/2025/01/02"), "{failed}");
    assert!(failed.contains("Permission denied"), "{failed}");

    // The nodes are told: node-r2's twelve old events are gone; of node-r1's twelve,
    // the nine removed (three are in the locked folder, not deleted).
    assert_eq!(node_deleted(&stats, "node-r2"), 12, "{stats:#}");
    assert_eq!(node_deleted(&stats, "node-r1"), 9, "{stats:#}");
}
