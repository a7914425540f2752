//! A node is killed with `kill -9` in the middle of emitting and started again: every
//! event it had acknowledged to its emitter (spooled and fsynced) reaches the server
//! exactly once, from the spool the restarted node resumes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::collections::HashSet;
use std::time::Duration;

use es_support::{assert_exactly_once, wait_until, NodeDir, ServerProcess};

#[test]
fn what_a_killed_node_acknowledged_arrives_exactly_once_after_restart() {
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("server"), None);
    // A slow server link (one request at a time, small batches) so that the spool
    // holds unsent events when the node dies.
    let node = NodeDir::new(
        root.path(),
        "node-a",
        &server.url,
        "max_in_flight = 1\nsend_batch_max_events = 5",
    );
    let mut first = node.spawn(&["--count", "20000", "--chunk", "200"]);
    assert!(wait_until(Duration::from_secs(30), || first.acked().len() >= 3000));
    first.kill9();
    let acked: HashSet<String> = first.acked().into_iter().collect();
    let stored_at_kill = server.stored().len();
    // The restarted node (same run folder and spool, now with the default fast link)
    // emits a few more and drains its spool before it exits.
    let node = NodeDir::new(root.path(), "node-a", &server.url, "");
    let mut second = node.spawn(&["--count", "100", "--start", "1000000"]);
    assert!(
        second.wait(Duration::from_secs(60)),
        "the restarted node did not finish"
    );
    let mut expected = acked.clone();
    expected.extend(second.acked());
    assert_exactly_once(&server, &expected);
    assert!(
        stored_at_kill < acked.len(),
        "the test should kill the node with acknowledged events still spooled"
    );
}
