//! `auditrail send` to a Kafka topic that does not exist (a cluster that does not create
//! it), with every default (`--timeout 30`, the target's `delivery_timeout_ms` 30000),
//! says why the event was not delivered: the topic does not exist, naming it, in its
//! output and in the dead-letter line. Before, librdkafka waited its own
//! `topic.metadata.propagation.max.ms` (30 s) before declaring the topic unknown, and
//! the send's deadline (30 s) came first: only "not delivered before the shutdown
//! deadline" was said (tryout s49-edge-h/04). The target now sets that wait to a third
//! of its delivery timeout (docs/targets/kafka.md).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use kafka_support::{brokers, unique};

#[test]
fn the_missing_topic_is_named_within_the_default_deadline() {
    let brokers = brokers();
    // Never created; tansu (the tests' broker) does not create topics on a producer's
    // metadata request.
    let topic = unique("misspelt");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("node.toml"),
        format!(
            "node = \"n1\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"kafka\"\nname = \"k\"\n\
             brokers = \"{brokers}\"\ntopic = \"{topic}\"\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--topic", "generic"])
        .args(["--msg-type", "login", "--user", "alice"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    let named = format!("Kafka topic `{topic}`: the topic does not exist");
    assert!(text.contains(&named), "{text}");
    let dead = std::fs::read_to_string(dir.path().join("run/deadletter/k.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(dead.lines().next().unwrap()).unwrap();
    assert!(line["error"].as_str().unwrap().contains(&named), "{line}");
}
