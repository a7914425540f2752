//! A topic deleted and created again starts at offset 0 while its partition store says
//! "resume after offset 4": the events Kafka acknowledged at the new topic's offsets
//! 0..4 are stored anyway (never skipped as "stored before"), each once, and the server
//! says loudly, in its log and its metrics, that the partition is not the one the
//! store was filled from.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, delete_topic, id_counts, metric, produce, shared_key, storing_config,
    unique,
};
use serve_support::{event_line, new_id, start};

fn produce_events(brokers: &str, topic: &str, seqs: std::ops::RangeInclusive<u64>) {
    let values: Vec<Vec<u8>> = seqs
        .map(|n| event_line(&new_id(n, 42), "node-1", n).into_bytes())
        .collect();
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(brokers, topic, &records);
}

fn wait_for_ids(root: &std::path::Path, n: usize, what: &str, log: impl Fn() -> String) {
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(root).len() < n {
        assert!(
            Instant::now() < until,
            "{what}: {:?}\n{}",
            id_counts(root),
            log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn events_of_a_recreated_topic_below_the_stores_offsets_are_stored_and_reported() {
    let brokers = brokers();
    let topic = unique("recreated");
    create_topic(&brokers, &topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    std::fs::write(
        d.join("s.toml"),
        storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root),
    )
    .unwrap();

    produce_events(&brokers, &topic, 1..=5);
    let server = start(d, &["--config", "s.toml"]);
    wait_for_ids(&root, 5, "the first 5 events were not stored", || {
        server.stderr()
    });
    assert_eq!(server.terminate(), 0);

    delete_topic(&brokers, &topic);
    // Created again once the broker has forgotten the old one (a deletion may take a
    // moment): the new topic is empty.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        create_topic(&brokers, &topic, 1);
        if high_watermark(&brokers, &topic) == 0 {
            break;
        }
        assert!(Instant::now() < until, "the topic was not deleted");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Acknowledged by Kafka at offsets 0..7, offsets the store says it has up to 4.
    produce_events(&brokers, &topic, 6..=12);

    let server = start(d, &["--config", "s.toml"]);
    wait_for_ids(&root, 12, "events of the recreated topic were lost", || {
        server.stderr()
    });
    let until = Instant::now() + Duration::from_secs(30);
    while metric(
        &server,
        "auditrail_kafka_source_partition_not_the_stored_one_total",
    ) < 1
    {
        assert!(Instant::now() < until, "not counted: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert!(
        log.contains("is not the one this store was filled from"),
        "{log}"
    );
    let counts = id_counts(&root);
    assert_eq!(counts.len(), 12, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

/// The partition's high watermark.
fn high_watermark(brokers: &str, topic: &str) -> i64 {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    c.fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap()
        .1
}
