//! A storing server's own destination that does not take a batch for a while (its
//! brokers unreachable) makes the Kafka source read the batch again and again. Each
//! attempt waits for the events already handed to the destination, not hand them once
//! more: once the destination is back, it gets each event once. Before, every attempt
//! queued the batch again (one copy per attempt: a `kafka` or `file` destination got
//! the same event as many times as the source had retried, and a stop dead-lettered
//! every copy).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, id_counts, produce_events, read_values, shared_key, storing_config,
    unique, Gate,
};
use serve_support::{new_id, start, wait_for_log_count};

#[test]
fn a_destination_back_after_failed_attempts_gets_each_event_once() {
    let brokers = brokers();
    let topic = unique("again");
    let copy = unique("copy");
    create_topic(&brokers, &topic, 1);
    create_topic(&brokers, &copy, 1);
    let ids: Vec<String> = (1..=3u64).map(|n| new_id(n, 12)).collect();
    produce_events(&brokers, &topic, 1, 3, 12);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    // The destination's brokers: unreachable until the gate opens.
    let gate = Gate::closed();
    let config = String::from("ack_timeout_ms = 2000\n")
        + &storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root)
        + &format!(
            "[[destinations]]\ntype = \"kafka\"\nname = \"copy\"\nbrokers = \"{}\"\n\
             topic = \"{copy}\"\nkey = \"node\"\n",
            gate.addr
        );
    std::fs::write(d.join("s.toml"), config).unwrap();
    let server = start(d, &["--config", "s.toml"]);
    // Three attempts of the batch failed while the destination was down.
    wait_for_log_count(&server, "the destinations did not take the batch", 3);
    gate.open();
    let until = Instant::now() + Duration::from_secs(90);
    while id_counts(&root).len() < 3 {
        assert!(Instant::now() < until, "not stored: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.terminate(), 0);

    let mut copies: HashMap<String, usize> = HashMap::new();
    for value in read_values(&brokers, &copy) {
        let v: serde_json::Value = serde_json::from_str(&value).unwrap();
        *copies
            .entry(v["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let expected: HashMap<String, usize> = ids.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(
        copies, expected,
        "each event once in the destination's topic"
    );
    assert!(id_counts(&root).values().all(|n| *n == 1));
    let dead = std::fs::read_to_string(d.join("s-data/deadletter/copy.jsonl")).unwrap_or_default();
    assert!(dead.is_empty(), "nothing dead-lettered: {dead}");
}
