//! `auditrail store prune` whose pass cannot remove one of its partitions (its folder
//! made read-only) says what the pass removed and what it left out (not deleted, not in
//! its signed line) before its error: it used to say only the error, while seven
//! partitions were gone (final60/01, the offline prune's variant).
//!
//! Run as a user the file modes stop (as root, uid 65534: see `tamper_support`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::{day_folder, set_mode, store_of_two_keys};
use crate::serve_support::segment_files;
use crate::tamper_support::run_unprivileged;

#[test]
fn the_pass_says_what_it_removed_and_what_it_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_two_keys(dir.path(), "");
    let locked = day_folder(&store, "r1", "2025-01-02");
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
        ],
    );
    set_mode(&locked, 0o755);
    assert_ne!(code, 0, "{out}");
    assert_eq!(segment_files(&store), 3, "{out}");
    assert!(out.contains("deleted 7 partitions (21 records, "), "{out}");
    assert!(
        out.contains("not deleted: generic/r1/2025/01/02 cannot be removed"),
        "{out}"
    );
    assert!(out.contains("Permission denied"), "{out}");
}
