//! `--store DIR` where DIR holds no store (a mistyped path, the mount point of a volume
//! that is not mounted) is an error naming the folder, never an empty answer with exit
//! 0 that an auditor would read as "no activity". A store the server made but never
//! wrote an event to still answers (empty).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn store_option_on_a_folder_holding_no_store_fails_naming_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("mnt-audit");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "just a note\n").unwrap();
    let node = common::Node::with_file_target("");
    for args in [
        &["sql", "SELECT count(*) AS n FROM events"][..],
        &["query", "last-activity"][..],
    ] {
        let mut args = args.to_vec();
        args.extend(["--store", empty.to_str().unwrap()]);
        let out = node.run(&args, "");
        let (stdout, stderr) = common::text(&out);
        assert!(
            !out.status.success(),
            "{args:?} answered from a folder with no store: {stdout}"
        );
        assert!(
            stderr.contains(&*empty.to_string_lossy()) && stderr.contains("no store"),
            "the error names the folder: {stderr}"
        );
    }

    // A store that holds no event yet is a store: its answer is empty, not an error.
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data").join("store");
    let out = node.run(
        &[
            "sql",
            "SELECT count(*) AS n FROM events",
            "--store",
            store.to_str().unwrap(),
            "--format",
            "csv",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, "n\n0\n");
}
