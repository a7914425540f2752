//! An operator stops the server, moves its data dir whole to a bigger disk and leaves
//! a symbolic link at the old path. Nothing in the folder changed, so the server
//! starts on it again, through the link and at the new path alike, and `verify`
//! passes. It refused ("no high-water mark for this store ... (removed, ...)"): the
//! marks named the store by its resolved path against the data dir as written, and
//! `store accept` wrote its mark under yet another name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, run};
use serve_support::start;

#[cfg(unix)]
#[test]
fn the_moved_data_dir_starts_through_the_link_and_at_its_new_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    post_day(&server, "2026-11-25", 5, 1);
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let marks_before = std::fs::read(dir.path().join("data/high-water.jsonl")).unwrap();

    std::fs::create_dir(dir.path().join("bigdisk")).unwrap();
    std::fs::rename(
        dir.path().join("data"),
        dir.path().join("bigdisk/auditrail"),
    )
    .unwrap();
    std::os::unix::fs::symlink("bigdisk/auditrail", dir.path().join("data")).unwrap();

    for data_dir in ["data", "bigdisk/auditrail", "data/", "bigdisk/../data"] {
        let server = start(dir.path(), &["--data-dir", data_dir]);
        post_day(&server, "2026-11-26", 3, 2 + data_dir.len() as u64);
        assert_eq!(tamper_support::stop(server), 0, "--data-dir {data_dir}");
    }
    let marks = std::fs::read_to_string(dir.path().join("data/high-water.jsonl")).unwrap();
    assert_eq!(
        marks.lines().count(),
        1,
        "one mark for the one store: {marks}"
    );
    assert!(marks.contains("\"store\":\"store\""), "{marks}");
    assert_ne!(marks.as_bytes(), marks_before, "the mark moved on");

    let (code, out) = run(dir.path(), &["verify", "data", "--public-key", key.trim()]);
    assert_eq!(code, 0, "{out}");
}
