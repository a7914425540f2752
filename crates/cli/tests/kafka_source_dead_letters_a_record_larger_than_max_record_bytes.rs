//! A record whose value is larger than the source's `max_record_bytes` is neither copied
//! nor decoded: it is dead-lettered with its offset, its size and the reason (without
//! its value), counted as invalid, and the next record of the partition is stored.
//! Before, any producer could make a storing server take up to 2 GiB for one record
//! (librdkafka's `receive.message.max.bytes` is at its largest), and more to parse it.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce, OneSource};
use serve_support::{event_line, new_id, start};

#[test]
fn a_record_past_max_record_bytes_is_dead_lettered_alone() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("toolarge", "");
    let d = dir.path();
    let config = std::fs::read_to_string(d.join("s.toml")).unwrap();
    std::fs::write(
        d.join("s.toml"),
        config.replace(
            "accept_unsigned = true\n",
            "accept_unsigned = true\nmax_record_bytes = 2000\n",
        ),
    )
    .unwrap();
    let big = serde_json::json!({
        "id": new_id(1, 72), "timestamp": "2026-11-25T16:55:49.123Z", "topic": "generic",
        "node": "node-1", "seq": 1, "message": {"msgType": "login", "blob": "x".repeat(3000)}
    })
    .to_string();
    let size = big.len();
    // Exactly at the bound: taken.
    let mut at_bound = serde_json::json!({
        "id": new_id(3, 72), "timestamp": "2026-11-25T16:55:49.123Z", "topic": "generic",
        "node": "node-1", "seq": 3, "message": {"msgType": "login", "blob": ""}
    })
    .to_string();
    let pad = 2000 - at_bound.len();
    at_bound = at_bound.replace(
        "\"blob\":\"\"",
        &format!("\"blob\":\"{}\"", "y".repeat(pad)),
    );
    assert_eq!(at_bound.len(), 2000);
    let small = event_line(&new_id(2, 72), "node-1", 2);
    produce(
        &brokers,
        &topic,
        &[
            ("node-1", Some(big.as_bytes())),
            ("node-1", Some(small.as_bytes())),
            ("node-1", Some(at_bound.as_bytes())),
        ],
    );

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).len() < 2 || metric(&server, "auditrail_kafka_source_invalid_total") < 1
    {
        assert!(
            Instant::now() < until,
            "not stored: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(metric(&server, "auditrail_kafka_source_invalid_total"), 1);
    assert_eq!(server.terminate(), 0);
    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{dead}");
    assert_eq!(lines[0]["kafka"]["offset"], 0);
    let error = lines[0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!(
            "{size} bytes, more than the source's max_record_bytes"
        )),
        "{error}"
    );
    assert!(lines[0]["value"].is_null(), "{}", lines[0]);
    let store = kafka_support::partition_stores(&root);
    let offsets: Vec<i64> = auditrail_testkit::store::records(&store[0])
        .iter()
        .map(|r| r["source"]["kafka"]["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, [1, 2]);
}
