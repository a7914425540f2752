//! A query on which the engine itself breaks down (Arrow panics with "offset overflow"
//! when `string_agg` builds a value past 2 GiB) fails alone, with a clear error: the
//! server answers `400 query_failed` (not `500`, a worker ended without an answer), and
//! `auditrail sql` exits 1 with an error naming the cause, not a panic and backtrace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::query_support;
use crate::serve_support;

const PAST_2_GIB: &str =
    "SELECT length(string_agg(repeat('x', 1000000), '')) AS n FROM generate_series(1, 3000)";

#[test]
fn string_agg_past_2_gib_is_an_error_of_that_query_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);

    let (status, answer) = query_support::query(&server.addr, PAST_2_GIB);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "query_failed", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("offset overflow"),
        "{answer}"
    );
    // The server answers the next query.
    let (status, answer) = query_support::query(&server.addr, "SELECT 1 AS one");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let node = common::Node::with_file_target("");
    let store = dir.path().join("data").join("store");
    let out = node.run(&["sql", PAST_2_GIB, "--store", store.to_str().unwrap()], "");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the query failed inside the query engine (offset overflow)"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic report: {stderr}");
}
