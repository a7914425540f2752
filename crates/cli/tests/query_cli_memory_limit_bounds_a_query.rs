//! `auditrail sql`/`query` bound the memory the engine's operators hold for one query,
//! as the server does (256 MiB by default), and `--memory-limit-mib` sets the bound: a
//! query past it fails with "Resources exhausted" instead of growing the process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

const MANY_GROUPS: &str =
    "SELECT count(*) AS n FROM (SELECT v FROM generate_series(1, 2000000) t(v) GROUP BY v)";

#[test]
fn memory_limit_flag_bounds_what_one_query_holds() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data").join("store");
    let store = store.to_str().unwrap();
    let node = common::Node::with_file_target("");
    let run = |limit: &str| {
        node.run(
            &[
                "sql",
                MANY_GROUPS,
                "--store",
                store,
                "--format",
                "csv",
                "--memory-limit-mib",
                limit,
            ],
            "",
        )
    };

    let out = run("1");
    let (_, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Resources exhausted"), "{stderr}");

    let out = run("0");
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "0 is no bound: {stderr}");
    assert_eq!(stdout, "n\n2000000\n");
}
