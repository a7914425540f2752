//! Three node processes, each with a local file target and an eventserver target,
//! send to one real server: every event is stored exactly once, in the partition of
//! its topic, routing key and hour, and also in the node's own local audit file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::collections::HashSet;
use std::time::Duration;

use es_support::{assert_exactly_once, NodeDir, ServerProcess};

#[test]
fn three_nodes_store_every_event_once_in_the_right_partition_and_locally() {
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("server"), None);
    let nodes: Vec<NodeDir> = ["node-a", "node-b", "node-c"]
        .iter()
        .map(|n| NodeDir::new(root.path(), n, &server.url, "compression = \"gzip\""))
        .collect();
    let mut procs: Vec<_> = nodes
        .iter()
        .map(|n| {
            n.spawn(&[
                "--count",
                "1500",
                "--routing-keys",
                &format!("{}-x,{}-y", n.name, n.name),
            ])
        })
        .collect();
    for p in &mut procs {
        assert!(p.wait(Duration::from_secs(60)), "a node did not finish");
        assert!(p.failed.lock().unwrap().is_empty());
    }
    let mut expected = HashSet::new();
    for (n, p) in nodes.iter().zip(&procs) {
        let acked = p.acked();
        assert_eq!(acked.len(), 1500);
        // The node's local file holds every one of its events.
        let local: HashSet<String> = n.local_ids().into_iter().collect();
        assert!(
            acked.iter().all(|id| local.contains(id)),
            "{}: local file incomplete",
            n.name
        );
        expected.extend(acked);
    }
    // The node exits after its spool drained (shutdown_drain_ms), so all are stored now.
    assert_exactly_once(&server, &expected);
    let stored = server.stored();
    assert_eq!(stored.len(), 4500);
    for (path, e) in &stored {
        let rk = e.routing_key.as_ref().unwrap().as_str();
        assert!(
            rk.starts_with(e.node.as_str()),
            "event of {} under key {rk}",
            e.node.as_str()
        );
        let ts = e.timestamp.as_datetime();
        let want = format!("generic/{rk}/{}", ts.format("%Y/%m/%d/%H"));
        let rel = path.strip_prefix(server.data_dir.join("store")).unwrap();
        assert!(rel.starts_with(&want), "{} not under {want}", rel.display());
    }
}
