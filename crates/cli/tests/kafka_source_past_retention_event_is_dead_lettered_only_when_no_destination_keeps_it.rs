//! The HTTP ingest's rule for an event dated past a store's retention, applied by a
//! Kafka source whose server has `[[destinations]]` of its own: the event is refused
//! (dead-lettered, counted) only when every store that would take it deletes it at its
//! next pass, the partition store and the server's destinations alike. A `store`
//! destination with the same `retention` deletes it too: dead-lettered, in neither
//! store (before: stored in both, and deleted from both by their next passes). A
//! `store` destination without a retention keeps it: taken, as over HTTP, and in that
//! store (only the partition store's pass deletes its own copy).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce_dated, OneSource};
use serve_support::{new_id, start};

/// Ids in the store destination at `path`.
fn ids_in(path: &std::path::Path) -> HashSet<String> {
    auditrail_testkit::store::stored_in(path)
        .into_iter()
        .map(|(_, e)| e.id.to_string())
        .collect()
}

/// A storing server with `retention = "30d"` and a `store` destination `st` with
/// `destination` settings reads: now, 2025-01-01, now. Returns the data folder once
/// both events of now are in the partition store and the destination.
fn run(salt: u64, destination: &str) -> (OneSource, u64) {
    let source = one_source("pastdest", "");
    let d = source.dir.path();
    let config = std::fs::read_to_string(d.join("s.toml")).unwrap();
    std::fs::write(
        d.join("s.toml"),
        format!(
            "{}[[destinations]]\ntype = \"store\"\npath = \"st\"\n{destination}",
            config.replace(
                "[sources.librdkafka]",
                "retention = \"30d\"\n[sources.librdkafka]",
            )
        ),
    )
    .unwrap();
    let now = auditrail::Timestamp::now().to_string();
    produce_dated(&source.brokers, &source.topic, 1..=1, salt, &now);
    produce_dated(
        &source.brokers,
        &source.topic,
        2..=2,
        salt,
        "2025-01-01T10:00:00.000Z",
    );
    produce_dated(&source.brokers, &source.topic, 3..=3, salt, &now);
    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    let dest = d.join("s-data/st");
    while !id_counts(&source.root).contains_key(&new_id(3, salt))
        || !ids_in(&dest).contains(&new_id(3, salt))
    {
        assert!(
            Instant::now() < until,
            "the events of now were not stored: {:?}\n{}",
            id_counts(&source.root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let past = metric(
        &server,
        "auditrail_kafka_source_events_past_retention_total",
    );
    assert_eq!(server.terminate(), 0);
    (source, past)
}

fn dead_letters(source: &OneSource) -> Vec<serde_json::Value> {
    std::fs::read_to_string(
        source
            .dir
            .path()
            .join("s-data/deadletter/source-kafka.jsonl"),
    )
    .unwrap_or_default()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[test]
fn a_destination_that_deletes_it_too_does_not_keep_it_and_it_is_dead_lettered() {
    let (source, past) = run(248, "retention = \"30d\"\n");
    let old = new_id(2, 248);
    assert_eq!(past, 1);
    assert!(!id_counts(&source.root).contains_key(&old));
    assert!(!ids_in(&source.dir.path().join("s-data/st")).contains(&old));
    let lines = dead_letters(&source);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["kafka"]["offset"], 1);
    assert!(lines[0]["value"]["text"].as_str().unwrap().contains(&old));
}

#[test]
fn a_destination_that_keeps_it_takes_it_and_nothing_is_dead_lettered() {
    let (source, past) = run(249, "");
    let old = new_id(2, 249);
    assert_eq!(past, 0);
    assert!(ids_in(&source.dir.path().join("s-data/st")).contains(&old));
    assert!(dead_letters(&source).is_empty());
}
