//! A statement whose expression nests deeper than the engine plans (a flat chain of
//! 3 500 operators, `SELECT 1 + 1 + … + 1`, which overflowed the query worker's stack)
//! is refused with `400 query_failed` naming the limit, and the server answers the next
//! query.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::query_support;
use crate::serve_support;

#[test]
fn a_chain_of_3500_operators_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);

    let chain = format!("SELECT 1{}", " + 1".repeat(3500));
    let (status, answer) = query_support::query(&server.addr, &chain);
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "query_failed", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("nests expressions deeper than 1000 levels"),
        "{answer}"
    );
    // The server answers the next query.
    let (status, answer) = query_support::query(&server.addr, "SELECT 1 AS one");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"][0]["one"], 1, "{answer}");
    assert_eq!(server.terminate(), 0);
}
