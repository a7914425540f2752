//! The Kafka source applies the HTTP ingest's bound on timestamps ahead
//! (`max_timestamp_ahead_s`): an event dated further ahead of the server's clock is
//! not stored (it would be filed in a partition that never closes, which no retention
//! deletes). As any invalid record of the topic, it is dead-lettered with its topic,
//! partition, offset and the reason, and counted; the events after it in the same
//! partition are stored.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce, OneSource};
use serve_support::{event_line, new_id, start};

#[test]
fn an_event_dated_too_far_ahead_is_dead_lettered_and_the_partition_goes_on() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("ahead", "max_timestamp_ahead_s = 3600\n");
    let d = dir.path();

    let good = |n: u64| event_line(&new_id(n, 45), "node-1", n).into_bytes();
    // Decades ahead of now: past the one-hour bound.
    let ahead = String::from_utf8(good(2))
        .unwrap()
        .replace("2026-11-25T16:55:49.123Z", "2099-11-25T16:55:49.123Z")
        .into_bytes();
    assert_ne!(ahead, good(2));
    let values = [good(1), ahead.clone(), good(3)];
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(&brokers, &topic, &records);

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).len() < 2
        || metric(&server, "auditrail_kafka_source_events_stored_total") < 2
        || metric(&server, "auditrail_kafka_source_invalid_total") < 1
    {
        assert!(
            Instant::now() < until,
            "the events around the one ahead were not stored, or it was not counted: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.terminate(), 0);

    // Its neighbours stored, each once; not the one ahead.
    let counts = id_counts(&root);
    let mut ids: Vec<&String> = counts.keys().collect();
    ids.sort();
    assert_eq!(ids, [&new_id(1, 45), &new_id(3, 45)], "{counts:?}");
    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{dead}");
    assert_eq!(lines[0]["kafka"]["topic"], topic.as_str());
    assert_eq!(lines[0]["kafka"]["offset"], 1);
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap()
            .contains("max_timestamp_ahead_s"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[0]["value"]["text"].as_str().unwrap().as_bytes(),
        ahead.as_slice()
    );
}
