//! A storing server (Kafka `sources`) whose only store destination is held at start
//! (its checkpoint log cut) refuses every HTTP batch (`503 store_held`), yet answers
//! `/readyz` `200`, listing the store in `held`: the documented exception
//! (docs/protocol.md, `GET /readyz`), since a `503` would take it out of its Service,
//! its read API with it, while its source goes on. Nothing in the status says so: the
//! metric does, `auditrail_server_store_held` being 1 for its every store destination
//! (docs/operations.md, "Monitoring": `min by (instance) (auditrail_server_store_held)
//! == 1`). This pins both, so that neither changes unnoticed.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support::{brokers, create_topic, metric, shared_key, storing_config, unique};
use crate::serve_support::{post_events, request, start};
use crate::tamper_support::{keyed_event as event, log_lines};

const SALT: u64 = 633;

#[test]
fn every_store_held_leaves_a_source_server_ready_and_the_metric_says_so() {
    let brokers = brokers();
    let topic = unique("all-held");
    create_topic(&brokers, &topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let b = d.join("b");
    let store = format!("[[destinations]]\nname = \"b\"\ntype = \"store\"\npath = {b:?}\n");

    // The store alone first: three batches stored and sealed.
    std::fs::write(
        d.join("s.toml"),
        format!(
            "data_dir = \"s-data\"\nsigning_key = \"{}\"\n{store}",
            key.display()
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "s.toml"]);
    for n in 1..=3 {
        let (status, answer) = post_events(&server.addr, &event("svc-b", n, SALT), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    // Its checkpoint log cut to its first line: its checks at the next start fail.
    let lines = log_lines(&b);
    std::fs::write(b.join("checkpoints.jsonl"), format!("{}\n", lines[0])).unwrap();

    // With a Kafka source beside it, the server starts (without one it would refuse).
    let root = d.join("partitions");
    let config = storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root);
    std::fs::write(d.join("s.toml"), format!("{config}{store}")).unwrap();
    let server = start(d, &["--config", "s.toml"]);

    let (status, answer) = post_events(&server.addr, &event("svc-b", 4, SALT), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("store_held")),
        "{answer}"
    );
    let (status, ready) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(
        (status, ready["status"].as_str()),
        (200, Some("ready")),
        "{ready}"
    );
    assert_eq!(ready["held"][0]["destination"], "b", "{ready}");
    assert_eq!(
        metric(&server, "auditrail_server_store_held"),
        1,
        "{}",
        server.stderr()
    );
    server.kill9();
}
