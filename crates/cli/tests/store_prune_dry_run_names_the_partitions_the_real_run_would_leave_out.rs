//! `auditrail store prune --dry-run` planned without either check by which the real
//! prune leaves a partition due out of its signed line: whether its files can be
//! removed (a folder made read-only) and whether each of its records belongs in its
//! folder (a segment moved there by hand). It listed such partitions as "would delete",
//! and said nothing of them, while the real run kept them and failed. Now the dry run
//! makes both checks (neither changes anything) and names each partition it would leave
//! out, and the partitions it lists are those the real run deletes.
//!
//! Run as a user the file modes stop (as root, uid 65534: see `tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::{day_folder, set_mode, store_of_two_keys};
use crate::tamper_support::run_unprivileged;

#[test]
fn the_dry_run_names_an_unremovable_and_a_misplaced_partition() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_two_keys(dir.path(), "");
    // r1's January 2 made read-only; r2's January 3 segment moved into January 1.
    let locked = day_folder(&store, "r1", "2025-01-02");
    let (from, into) = (
        day_folder(&store, "r2", "2025-01-03"),
        day_folder(&store, "r2", "2025-01-01"),
    );
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().ends_with(".jsonl") {
            std::fs::rename(entry.path(), into.join(entry.file_name())).unwrap();
        }
    }
    set_mode(&locked, 0o555);
    let (code, out) = run_unprivileged(
        dir.path(),
        &[
            "store",
            "prune",
            "--config",
            "server.toml",
            "--before",
            "2025-02-01",
            "--dry-run",
        ],
    );
    set_mode(&locked, 0o755);
    assert_eq!(code, 0, "{out}");
    // Eight old partitions less the two left out (the emptied one holds no segment).
    assert!(out.contains("would delete 5 partitions"), "{out}");
    assert!(out.contains("would leave out 2 partitions due"), "{out}");
    assert!(
        out.contains("left out: generic/r1/2025/01/02 cannot be removed")
            && out.contains("Permission denied"),
        "{out}"
    );
    assert!(
        out.contains("left out: partition generic/r2/2025/01/01/ kept"),
        "{out}"
    );
    for line in out.lines().filter(|l| l.starts_with("  generic/")) {
        assert!(
            !line.contains("generic/r1/2025/01/02") && !line.contains("generic/r2/2025/01/01"),
            "listed as deleted: {line}\n{out}"
        );
    }
}
