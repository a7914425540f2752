//! A node whose key does not own a routing key: those events are refused (403) and
//! written to the node's dead-letter file with the server's message, never stored;
//! the node's other events, before and after, are stored. Once the key is allowed the
//! routing key, `auditrail send --stdin` re-sends the dead-letter file as it is.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::collections::HashSet;
use std::time::Duration;

use es_support::{NodeDir, ServerProcess};

#[test]
fn events_for_a_routing_key_the_key_does_not_own_are_dead_lettered() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[keys]]
id = "node-a-key"
secret = "s3cret-a"
routing_keys = ["svc-a"]

[[destinations]]
type = "store"
path = "{}"
"#,
            root.path().join("server/store").display()
        ),
    )
    .unwrap();
    let mut server = ServerProcess::start(&root.path().join("server"), Some(&config));
    let node = NodeDir::new(
        root.path(),
        "node-a",
        &server.url,
        "auth_key = \"s3cret-a\"",
    );
    // Every third event uses svc-b, which the key does not own.
    let mut p = node.spawn(&[
        "--count",
        "600",
        "--chunk",
        "60",
        "--routing-keys",
        "svc-a,svc-a,svc-b",
    ]);
    assert!(p.wait(Duration::from_secs(60)));
    let acked = p.acked();
    assert_eq!(acked.len(), 600);

    let stored = server.stored();
    let stored_ids: HashSet<String> = stored.iter().map(|(_, e)| e.id.to_string()).collect();
    assert!(stored
        .iter()
        .all(|(_, e)| e.routing_key.as_ref().unwrap().as_str() == "svc-a"));
    assert_eq!(
        stored_ids.len(),
        400,
        "every svc-a event stored, before and after refusals"
    );

    let dead = node.dead_letters();
    let dead_ids: HashSet<String> = dead
        .iter()
        .map(|l| l["event"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dead_ids.len(), 200);
    assert!(dead_ids.is_disjoint(&stored_ids));
    for l in &dead {
        assert_eq!(l["event"]["routingKey"], "svc-b");
        assert_eq!(l["target"], "central");
        assert!(l["error"].as_str().unwrap().contains("403"), "{l}");
    }

    // The operator fixes the key's rights and re-sends the dead letters.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(r#"["svc-a"]"#, r#"["svc-a", "svc-b"]"#),
    )
    .unwrap();
    server.restart();
    let node = NodeDir::new(
        root.path(),
        "node-a",
        &server.url,
        "auth_key = \"s3cret-a\"",
    );
    let dead_file = std::fs::File::open(node.dir.join("run/deadletter/central.jsonl")).unwrap();
    let out = std::process::Command::new(es_support::server::auditrail_bin())
        .args(["send", "--stdin", "--config"])
        .arg(node.config())
        .stdin(dead_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: HashSet<String> = acked.into_iter().collect();
    es_support::assert_exactly_once(&server, &all);
    assert_eq!(server.stored().len(), 600);
}
