//! The server is killed with `kill -9` and restarted on the same address while two
//! nodes are sending: every event the nodes acknowledged is stored exactly once
//! (spooled events are resent; the server's de-duplication drops the copies of
//! batches it had stored but not answered).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::collections::HashSet;
use std::time::Duration;

use es_support::{assert_exactly_once, wait_until, NodeDir, ServerProcess};

#[test]
fn killing_the_server_mid_stream_loses_and_duplicates_nothing() {
    let root = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(&root.path().join("server"), None);
    let nodes: Vec<NodeDir> = ["node-a", "node-b"]
        .iter()
        .map(|n| NodeDir::new(root.path(), n, &server.url, "send_batch_max_events = 100"))
        .collect();
    let mut procs: Vec<_> = nodes
        .iter()
        .map(|n| {
            n.spawn(&[
                "--count",
                "4000",
                "--chunk",
                "100",
                "--pause-ms",
                "5",
                "--routing-keys",
                "svc",
            ])
        })
        .collect();
    // Kill while events are flowing: some stored already, more to come.
    assert!(wait_until(Duration::from_secs(30), || server
        .stored()
        .len()
        >= 1000));
    server.kill9();
    // Down for a moment while the nodes keep emitting into their spools (on a loaded
    // machine a node may have emitted all its events already: then there is nothing
    // more to wait for).
    let before = procs[0].acked().len();
    let spooled = (before + 200).min(4000);
    assert!(wait_until(Duration::from_secs(30), || procs[0]
        .acked()
        .len()
        >= spooled));
    server.restart();
    let mut expected = HashSet::new();
    for p in &mut procs {
        assert!(p.wait(Duration::from_secs(60)), "a node did not finish");
        assert!(p.failed.lock().unwrap().is_empty());
        assert_eq!(p.acked().len(), 4000);
        expected.extend(p.acked());
    }
    assert_exactly_once(&server, &expected);
    assert_eq!(server.stored().len(), 8000);
}
