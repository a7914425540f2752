//! Retention with an archive whose pass cannot remove one of the partitions due (its
//! folder made read-only): that partition is neither archived nor named by the signed
//! line (checked before the upload), every other partition is archived, read back and
//! removed, and the pass reports those (counters, its line, the nodes' `deleted`)
//! before it fails. It used to report none of them (final60/01, the archive's
//! variant), and it used to archive the partition and sign its deletion while it
//! stayed. The failure is no archive failure, and `verify` passes.
//!
//! The server runs as a user the file modes stop (as root, uid 65534: see
//! `tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::{
    day_folder, node_deleted, retention_counts, set_mode, stats, store_of_two_keys,
};
use crate::serve_support::{segment_files, wait_for_log};
use crate::tamper_support::{stop, strip_ansi, try_start_unprivileged, verify};

#[test]
fn the_archived_partitions_removed_are_reported_and_the_one_left_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let store = store_of_two_keys(
        dir.path(),
        &format!("archive = \"file://{}\"\n", archive.display()),
    );
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let locked = day_folder(&store, "r1", "2025-01-02");
    set_mode(&locked, 0o555);

    let server =
        try_start_unprivileged(dir.path()).unwrap_or_else(|(code, log)| panic!("{code}: {log}"));
    wait_for_log(&server, "retention failed");
    let log = strip_ansi(&server.stderr());
    let stats = stats(&server);
    assert_eq!(stop(server), 0);
    set_mode(&locked, 0o755);

    // Seven archived and removed; the locked one neither.
    assert_eq!(segment_files(&archive.join("generic")), 7, "{log}");
    assert_eq!(segment_files(&store), 3, "{log}");
    assert_eq!(retention_counts(&stats), [1, 7, 21, 1], "{stats:#}\n{log}");
    assert_eq!(
        stats["stores"]["a"]["retentionArchiveFailures"], 0,
        "{stats:#}"
    );
    let said = log
        .lines()
        .find(|l| l.contains("retention deleted time partitions"))
        .unwrap_or_else(|| panic!("{log}"));
    for field in ["partitions=7", "records=21", "partitions_unremovable=1"] {
        assert!(said.contains(field), "{field}: {said}");
    }
    assert_eq!(node_deleted(&stats, "node-r1"), 9, "{stats:#}");
    assert_eq!(node_deleted(&stats, "node-r2"), 12, "{stats:#}");

    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
}
