//! A Kafka source with `retention = "30d"` reads an event dated long before the cut-off
//! (a node whose clock is behind, a backlog older than the retention) between two of
//! now. Its partition store's next retention pass would delete it at once, so, as the
//! HTTP ingest refuses it (`400 timestamp_past_retention`), it is not stored: it is
//! dead-lettered with its topic, partition, offset, its text and a reason naming the
//! retention, counted in `auditrail_kafka_source_events_past_retention_total`, and the
//! partition goes on. Before, it was stored and deleted by the next pass (at the
//! server's next start, or within ten minutes) without a word.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce_dated, OneSource};
use serve_support::{new_id, start, wait_for_log};

#[test]
fn an_event_dated_past_the_partition_store_retention_is_dead_lettered_not_stored() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("pastret", "");
    let d = dir.path();
    let config = std::fs::read_to_string(d.join("s.toml")).unwrap();
    assert!(config.contains("[sources.librdkafka]"), "{config}");
    std::fs::write(
        d.join("s.toml"),
        config.replace(
            "[sources.librdkafka]",
            "retention = \"30d\"\n[sources.librdkafka]",
        ),
    )
    .unwrap();
    let now = auditrail::Timestamp::now().to_string();
    produce_dated(&brokers, &topic, 1..=1, 247, &now);
    produce_dated(&brokers, &topic, 2..=2, 247, "2025-01-01T10:00:00.000Z");
    produce_dated(&brokers, &topic, 3..=3, 247, &now);

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).len() < 2
        || metric(&server, "auditrail_kafka_source_events_stored_total") < 2
        || metric(
            &server,
            "auditrail_kafka_source_events_past_retention_total",
        ) < 1
    {
        assert!(
            Instant::now() < until,
            "the events around the old one were not stored, or it was not counted: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for_log(&server, "dated past the partition store's retention");
    assert_eq!(server.terminate(), 0);

    // Its neighbours stored, each once; not the old one.
    let counts = id_counts(&root);
    let mut ids: Vec<&String> = counts.keys().collect();
    ids.sort();
    assert_eq!(ids, [&new_id(1, 247), &new_id(3, 247)], "{counts:?}");
    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{dead}");
    assert_eq!(lines[0]["kafka"]["topic"], topic.as_str());
    assert_eq!(lines[0]["kafka"]["partition"], 0);
    assert_eq!(lines[0]["kafka"]["offset"], 1);
    let why = lines[0]["error"].as_str().unwrap();
    assert!(
        why.contains("past the retention of the partition store") && why.contains("30d"),
        "{why}"
    );
    assert!(
        lines[0]["value"]["text"]
            .as_str()
            .unwrap()
            .contains(&new_id(2, 247)),
        "{}",
        lines[0]
    );
}
