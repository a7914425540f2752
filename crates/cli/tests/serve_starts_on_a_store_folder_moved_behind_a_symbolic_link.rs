//! An operator stops the server, moves a store's folder whole to another disk and
//! leaves a symbolic link at its path (as docs/operations.md allows for the data dir).
//! The start was refused with a misleading "no high-water mark for this store": the
//! store was named by the folder the link points to, outside the data dir, and
//! `--data-dir` alone did not find it. Now the store keeps its name through the link:
//! the server starts and stores on, `verify` and `store prune --data-dir` find it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run};
use serve_support::start;

#[cfg(unix)]
#[test]
fn the_linked_store_keeps_its_mark_and_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post_day(&server, "2026-11-25", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();

    std::fs::create_dir(dir.path().join("bigdisk")).unwrap();
    std::fs::rename(
        dir.path().join("data/store"),
        dir.path().join("bigdisk/store"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("bigdisk/store"),
        dir.path().join("data/store"),
    )
    .unwrap();

    let server = start(dir.path(), &["--data-dir", "data"]);
    post_day(&server, "2026-11-26", 3, 2);
    assert_eq!(tamper_support::stop(server), 0);
    let marks = std::fs::read_to_string(dir.path().join("data/high-water.jsonl")).unwrap();
    assert_eq!(marks.lines().count(), 1, "one mark: {marks}");
    assert!(marks.contains("\"store\":\"store\""), "{marks}");

    let (code, out) = run(dir.path(), &["verify", "data", "--public-key", key.trim()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("8 records"), "{out}");
    let (code, out) = run(
        dir.path(),
        &[
            "store",
            "prune",
            "--data-dir",
            "data",
            "--before",
            "2026-11-01",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{out}");
}
