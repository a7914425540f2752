//! A record in the topic that is not a valid event (another producer's JSON, binary
//! bytes, an empty value) never stops collection: it is dead-lettered with its topic,
//! partition and offset, counted, logged naming the offset of the first such record
//! of the batch, and the events after it in the same partition are stored.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce, OneSource};
use serve_support::{event_line, new_id, start};

#[test]
fn records_that_are_not_events_are_dead_lettered_and_the_partition_goes_on() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("dead", "");
    let d = dir.path();

    let good = |n: u64| event_line(&new_id(n, 42), "node-1", n).into_bytes();
    let not_a_topic = good(2);
    let not_a_topic = String::from_utf8(not_a_topic)
        .unwrap()
        .replace("\"generic\"", "\"Not A Topic\"")
        .into_bytes();
    let values: Vec<Option<Vec<u8>>> = vec![
        Some(good(1)),
        Some(br#"{"id":"x","note":"someone else's JSON"}"#.to_vec()),
        Some(vec![0xff, 0x00, 0xfe]),
        Some(not_a_topic),
        Some(good(2)),
        Some(good(3)),
        // An empty value (a tombstone).
        None,
        Some(good(4)),
    ];
    let records: Vec<(&str, Option<&[u8]>)> =
        values.iter().map(|v| ("node-1", v.as_deref())).collect();
    produce(&brokers, &topic, &records);

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).len() < 4 {
        assert!(
            Instant::now() < until,
            "the valid events were not stored: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The counters move once the store's write returned, a moment after its records are
    // in the files read above: waited for, not raced.
    while metric(&server, "auditrail_kafka_source_events_stored_total") < 4
        || metric(&server, "auditrail_kafka_source_invalid_total") < 4
    {
        assert!(Instant::now() < until, "the counters did not move");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(metric(&server, "auditrail_kafka_source_invalid_total"), 4);
    assert_eq!(
        metric(&server, "auditrail_kafka_source_events_stored_total"),
        4
    );
    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert!(log.contains("dead-lettered"), "{log}");
    // The line says where: the first record dead-lettered is at offset 1 (whichever
    // batch holds it).
    assert!(
        log.contains(&format!("the first at offset 1 of {topic}/0"))
            && log.contains("first_offset=1"),
        "{log}"
    );

    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let offsets: Vec<i64> = lines
        .iter()
        .map(|l| l["kafka"]["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, [1, 2, 3, 6], "{dead}");
    for l in &lines {
        assert_eq!(l["kafka"]["topic"], topic.as_str());
        assert_eq!(l["kafka"]["partition"], 0);
        assert!(!l["error"].as_str().unwrap().is_empty(), "{l}");
    }
    assert_eq!(
        lines[0]["value"]["text"],
        r#"{"id":"x","note":"someone else's JSON"}"#
    );
    assert_eq!(lines[1]["value"]["hex"], "ff00fe");
    assert!(
        lines[2]["error"].as_str().unwrap().contains("topic"),
        "{}",
        lines[2]
    );
    assert!(lines[3]["value"].is_null(), "{}", lines[3]);
    // The valid ones, each once, in offset order, with their offsets kept.
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
    assert_eq!(kept, [(1, 0), (2, 4), (3, 5), (4, 7)]);
}
