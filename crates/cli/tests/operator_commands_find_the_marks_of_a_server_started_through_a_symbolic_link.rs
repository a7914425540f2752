//! A server started with `--data-dir` through a symbolic link (or with `..`) keeps
//! the same marks as one started at the real path: `keys rotate`, `store accept` and
//! `store prune` with `--data-dir`, however it is named, find every store the marks
//! name, and the server starts again after them. They refused ("names store
//! /abs/.../store ..., which is not under ...: the server's config has stores
//! elsewhere"): the server had written absolute names into its marks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{days, post_day, run, write_config};
use serve_support::start;

#[cfg(unix)]
#[test]
fn keys_rotate_store_accept_and_prune_work_through_any_name_of_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "link"],
    );
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 10, i as u64 + 1);
    }
    assert_eq!(tamper_support::stop(server), 0);

    let (code, out) = run(dir.path(), &["keys", "rotate", "--data-dir", "link"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        dir.path(),
        &[
            "store",
            "accept",
            "--data-dir",
            "real/../link/",
            "--reason",
            "checked after the move",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        dir.path(),
        &[
            "store",
            "prune",
            "--data-dir",
            "real",
            "--before",
            "2025-01-03",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(days(&dir.path().join("real/store")), ["2025/01/03"]);
    let marks = std::fs::read_to_string(dir.path().join("real/high-water.jsonl")).unwrap();
    assert_eq!(marks.lines().count(), 1, "{marks}");
    assert!(marks.contains("\"store\":\"store\""), "{marks}");

    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "link"],
    );
    post_day(&server, "2025-01-04", 4, 9);
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("real/signing.pub")).unwrap();
    let (code, out) = run(dir.path(), &["verify", "link", "--public-key", key.trim()]);
    assert_eq!(code, 0, "{out}");
}
