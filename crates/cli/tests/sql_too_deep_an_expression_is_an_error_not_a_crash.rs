//! `auditrail sql` with a statement whose expression nests deeper than the engine plans
//! (a flat chain of 20 000 operators, which overflowed the stack and aborted the
//! process) exits 1 with an error naming the limit, not with a signal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

#[test]
fn a_chain_of_20000_operators_exits_1_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // A store to query: the one a server creates.
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(server.terminate(), 0);
    let store = dir.path().join("data").join("store");

    let node = common::Node::with_file_target("");
    let chain = format!("SELECT 1{}", " + 1".repeat(20_000));
    let out = node.run(&["sql", &chain, "--store", store.to_str().unwrap()], "");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{:?} {stdout}{stderr}",
        out.status
    );
    assert!(
        stderr.contains("the statement nests expressions deeper than 1000 levels"),
        "{stderr}"
    );
}
