//! A Kafka record's value is one JSON document; a UTF-8 byte order mark before it is
//! skipped, as RFC 8259 (section 8.1) lets a parser do and as the HTTP ingest does at the
//! start of a body: producers that read events from files written by Windows tools send
//! one. It was dead-lettered as "expected value at line 1 column 1". The stored event is
//! the JSON after the mark; one anywhere else in a value is still refused.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce, OneSource};
use serve_support::{event_line, new_id, start};

#[test]
fn a_leading_byte_order_mark_is_skipped_and_the_event_stored() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("bom", "");
    let d = dir.path();

    let good = |n: u64| event_line(&new_id(n, 43), "node-1", n);
    let bom = |text: String| [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    // A mark after leading spaces is inside the document, not before it.
    let inside = [b"  ".as_slice(), &bom(good(3))].concat();
    let values = [
        bom(good(1)),
        good(2).into_bytes(),
        inside,
        good(4).into_bytes(),
    ];
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(&brokers, &topic, &records);

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while metric(&server, "auditrail_kafka_source_events_stored_total") < 3
        || metric(&server, "auditrail_kafka_source_invalid_total") < 1
    {
        assert!(
            Instant::now() < until,
            "the events were not stored: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.terminate(), 0);
    assert_eq!(id_counts(&root).len(), 3);

    let store = kafka_support::partition_stores(&root);
    let records = auditrail_testkit::store::records(&store[0]);
    let kept: Vec<(u64, i64)> = records
        .iter()
        .map(|r| {
            (
                r["clientEvent"]["seq"].as_u64().unwrap(),
                r["source"]["kafka"]["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(kept, [(1, 0), (2, 1), (4, 3)]);
    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{dead}");
    assert_eq!(lines[0]["kafka"]["offset"], 2, "{dead}");
}
