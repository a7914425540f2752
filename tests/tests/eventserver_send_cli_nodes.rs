//! The same delivery through the real `auditrail send` command: three node configs
//! (file target + eventserver target), each fed JSON lines on stdin, send to one
//! server; `auditrail send` exits once every event is acknowledged, and then every
//! event is stored exactly once and is also in the node's local audit file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};

use es_support::{server::auditrail_bin, NodeDir, ServerProcess};

#[test]
fn three_auditrail_send_processes_store_every_event_once() {
    let root = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&root.path().join("server"), None);
    let nodes: Vec<NodeDir> = ["cli-a", "cli-b", "cli-c"]
        .iter()
        .map(|n| NodeDir::new(root.path(), n, &server.url, "compression = \"zstd\""))
        .collect();
    let mut children = Vec::new();
    for n in &nodes {
        let mut child = Command::new(auditrail_bin())
            .args(["send", "--stdin", "--config"])
            .arg(n.config())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = String::new();
        for i in 0..500 {
            lines.push_str(&format!(
                "{{\"topic\":\"generic\",\"routingKey\":\"{}\",\"message\":{{\"msgType\":\"e2e\",\"i\":{i}}}}}\n",
                n.name
            ));
        }
        child
            .stdin
            .take()
            .unwrap()
            .write_all(lines.as_bytes())
            .unwrap();
        children.push(child);
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
        assert_eq!(summary["acknowledged"], 500, "{summary}");
    }
    // `auditrail send` waits for the spool to drain at shutdown (shutdown_drain_ms).
    let stored = server.stored();
    let mut per_node: HashMap<String, HashSet<String>> = HashMap::new();
    for (_, e) in &stored {
        assert_eq!(e.routing_key.as_ref().unwrap().as_str(), e.node.as_str());
        per_node
            .entry(e.node.as_str().to_owned())
            .or_default()
            .insert(e.id.to_string());
    }
    assert_eq!(stored.len(), 1500, "each event stored once");
    for n in &nodes {
        let ids = &per_node[&n.name];
        assert_eq!(ids.len(), 500);
        let local: HashSet<String> = n.local_ids().into_iter().collect();
        assert_eq!(
            &local, ids,
            "{}: the local file holds the same events",
            n.name
        );
    }
}
