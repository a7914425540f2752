//! A Kafka partition whose store waits for a place in the open-file budget (every
//! place for an open partition store taken) is named in `/readyz`'s `degraded` by
//! source, topic and partition, with how long it has waited and the budget's values,
//! the server staying ready (the other partitions and the HTTP ingest store theirs);
//! each such wait is counted once in
//! `auditrail_kafka_source_partition_waits_for_descriptors_total`, however many opens
//! it tries. Before, only `/v1/checkpoints` said it, and no metric counted it. Under
//! `ulimit -n` 512 a source-only server keeps one place (see
//! `kafka_source_partition_stores_beyond_their_budget_wait.rs`): of two partitions one
//! waits.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{
    listed_partition_stores_until, metric, partitioned_source, produce_to_both_partitions,
    OneSource,
};
use serve_support::{request, start_with_open_file_limit};

#[test]
fn a_partition_waiting_for_descriptors_is_named_in_readyz_and_its_wait_counted() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = partitioned_source("fdready", 2);
    let d = dir.path();
    produce_to_both_partitions(&brokers, &topic, 1..=2);

    let server = start_with_open_file_limit(d, 512, &["--config", "s.toml"]);
    let list = listed_partition_stores_until(&server, "one open, one waiting", |l| {
        l.len() == 2
            && l.iter().any(|s| s["records"] == 2)
            && l.iter().any(|s| {
                s["waiting"]
                    .as_str()
                    .is_some_and(|w| w.contains("waits for file descriptors"))
            })
    });
    let waiting = list.iter().find(|s| s["waiting"].is_string()).unwrap();

    let (status, body) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["status"], "ready", "{answer}");
    let entries = answer["degraded"].as_array().expect("a degraded list");
    assert_eq!(entries.len(), 1, "{answer}");
    let e = &entries[0];
    assert_eq!(e["reason"], "partition_waits_for_file_descriptors", "{e}");
    assert_eq!(e["topic"], topic.as_str(), "{e}");
    assert_eq!(e["partition"], waiting["partition"], "{e}");
    assert!(e["source"].is_string(), "{e}");
    assert!(e["waiting_ms"].is_u64(), "{e}");
    assert_eq!(e["partition_stores_open_at_most"], 1, "{e}");
    assert_eq!(e["files_each"], 32, "{e}");
    assert_eq!(e["open_file_limit"], 512, "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("waits for file descriptors"), "{message}");
    // No path in /readyz (it needs no key).
    assert!(!message.contains(root.to_str().unwrap()), "{message}");

    assert_eq!(
        metric(
            &server,
            "auditrail_kafka_source_partition_waits_for_descriptors_total"
        ),
        1,
        "{}",
        server.stderr()
    );
}
