//! A node whose key does not own a routing key: those events are refused (403) and
//! written to the node's dead-letter file with the server's message, never stored;
//! the node's other events, before and after, are stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod es_support;

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
    let server = ServerProcess::start(&root.path().join("server"), Some(&config));
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
}
