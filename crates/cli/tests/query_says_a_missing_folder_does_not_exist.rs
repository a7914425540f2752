//! A source folder of `query`/`sql` that is not there is said missing, a file given as a
//! folder is said to be a file: `auditrail query last-activity` run where no
//! `auditrail-data` is (the default `--dir`), or with a mistyped `--store`, used to say
//! "auditrail-data: not a folder (expected data dir, store or audit folder)", which
//! reads as "something else is there".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

#[test]
fn a_missing_source_is_said_missing_and_a_file_a_file() {
    let node = common::Node::with_file_target("");
    let fails = |args: &[&str]| {
        let out = node.run(args, "");
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}\n{stderr}");
        stderr
    };

    let e = fails(&["query", "last-activity"]);
    assert!(
        e.contains(
            "auditrail-data: does not exist (expected a data dir, a store or an audit folder)"
        ),
        "the default --dir, missing: {e}"
    );
    let e = fails(&["sql", "SELECT 1", "--store", "nostore"]);
    assert!(
        e.contains("nostore: does not exist (expected a store)"),
        "a missing --store: {e}"
    );
    std::fs::write(node.path().join("afile"), b"").unwrap();
    let e = fails(&["query", "node-usage", "--audit-dir", "afile"]);
    assert!(
        e.contains("afile: is a file, not a folder (expected an audit folder)"),
        "a file as --audit-dir: {e}"
    );
}
