//! A storing server's `/metrics` shows, per assigned partition, the consumer lag that
//! librdkafka measures (high watermark minus the committed offset; offsets are
//! committed once stored), with the source's counters: it falls to 0 once every record
//! is stored.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, id_counts, produce, shared_key, storing_config, unique,
};
use serve_support::{event_line, new_id, request, start};

#[test]
fn consumer_lag_per_partition_falls_to_zero_once_stored() {
    let brokers = brokers();
    let topic = unique("lag");
    create_topic(&brokers, &topic, 3);
    let values: Vec<(String, Vec<u8>)> = (1..=90u64)
        .map(|n| {
            let node = format!("node-{}", n % 9);
            let value = event_line(&new_id(n, 9), &node, n).into_bytes();
            (node, value)
        })
        .collect();
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_slice())))
        .collect();
    produce(&brokers, &topic, &records);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    std::fs::write(
        d.join("s.toml"),
        storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root),
    )
    .unwrap();
    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    let lag_lines = |text: &str| -> Vec<(String, f64)> {
        text.lines()
            .filter(|l| l.starts_with("auditrail_kafka_consumer_lag{"))
            .map(|l| {
                let (labels, value) = l.rsplit_once(' ').unwrap();
                (labels.to_owned(), value.parse().unwrap())
            })
            .collect()
    };
    loop {
        let (status, text) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
        assert_eq!(status, 200);
        let lag = lag_lines(&text);
        let done = id_counts(&root).len() == 90
            && lag.len() == 3
            && lag.iter().all(|(_, v)| *v == 0.0)
            && text.contains("auditrail_kafka_source_events_stored_total{source=\"kafka\"} 90");
        if done {
            for p in 0..3 {
                let labels = format!("partition=\"{p}\"");
                assert!(
                    lag.iter().any(|(l, _)| l.contains(&labels)
                        && l.contains(&format!("topic=\"{topic}\""))
                        && l.contains("source=\"kafka\"")),
                    "{lag:?}"
                );
            }
            assert!(
                text.contains("auditrail_kafka_source_records_total{source=\"kafka\"} 90"),
                "{text}"
            );
            assert!(
                text.contains("auditrail_kafka_source_partitions_assigned{source=\"kafka\"} 3"),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < until,
            "lag never reached 0 on 3 partitions: {lag:?}\n{text}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(server.terminate(), 0);
}
