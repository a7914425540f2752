//! The bound on timestamps ahead (`max_timestamp_ahead_s`) moves with the clock, but a
//! record's verdict must not: an event the Kafka source dead-lettered as dated too far
//! ahead is refused again when read again, even once it would pass (time has passed,
//! or here, the same thing sooner: the bound was lifted). Otherwise the store's resume
//! offset, which re-reads it after a restart, would store it after its dead letter (or,
//! below that offset, take it for an event of another partition and read the whole
//! partition again).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, id_counts, metric, produce, shared_key, storing_config, unique,
};
use serve_support::{event_line, new_id, start};

#[test]
fn an_event_dead_lettered_as_too_far_ahead_is_not_stored_when_read_again_under_a_wider_bound() {
    let brokers = brokers();
    let topic = unique("ahead-again");
    create_topic(&brokers, &topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    let config = storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root);
    // The bound is a top-level key: before the `[[sources]]` table. 0: no bound.
    let with_bound = |s: u64| format!("max_timestamp_ahead_s = {s}\n{config}");
    std::fs::write(d.join("s.toml"), with_bound(3600)).unwrap();

    let good = |n: u64| event_line(&new_id(n, 46), "node-1", n).into_bytes();
    let ahead = String::from_utf8(good(2))
        .unwrap()
        .replace("2026-11-25T16:55:49.123Z", "2099-11-25T16:55:49.123Z")
        .into_bytes();
    assert_ne!(ahead, good(2));
    // The one ahead last: after a restart the store resumes at offset 0, the last one
    // it holds, and reads offset 1 again.
    let first = [good(1), ahead];
    produce(
        &brokers,
        &topic,
        &first
            .iter()
            .map(|v| ("node-1", Some(v.as_slice())))
            .collect::<Vec<_>>(),
    );
    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(&root).is_empty() || metric(&server, "auditrail_kafka_source_invalid_total") < 1
    {
        assert!(
            Instant::now() < until,
            "the first event was not stored or the one ahead not refused: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.terminate(), 0);

    // The same server, restarted with no bound: the record ahead would pass now.
    std::fs::write(d.join("s.toml"), with_bound(0)).unwrap();
    let server = start(d, &["--config", "s.toml"]);
    let third = good(3);
    produce(&brokers, &topic, &[("node-1", Some(third.as_slice()))]);
    let until = Instant::now() + Duration::from_secs(60);
    while !id_counts(&root).contains_key(&new_id(3, 46)) {
        assert!(
            Instant::now() < until,
            "the event after the restart was not stored: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let stderr = server.stderr();
    assert_eq!(server.terminate(), 0);

    let counts = id_counts(&root);
    let mut stored: Vec<(&String, &usize)> = counts.iter().collect();
    stored.sort();
    assert_eq!(
        stored,
        [(&new_id(1, 46), &1), (&new_id(3, 46), &1)],
        "the event dead-lettered as too far ahead was stored later, or an event twice\n{stderr}"
    );
    assert!(
        !stderr.contains("not the one this store was filled from"),
        "{stderr}"
    );
    assert!(!root.join(&topic).join("0").join("reread").exists());
    let dead = std::fs::read_to_string(d.join("s-data/deadletter/source-kafka.jsonl")).unwrap();
    // Dead letters are at least once: read again at or past the resume offset, a refused
    // record is dead-lettered again, never stored.
    for line in dead.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["kafka"]["offset"], 1, "{line}");
    }
}
