//! A topic deleted and created again with fewer records than the old one had (its
//! offsets stay below the old store's) is read again from its beginning once. Once that
//! re-read has read the new partition, the partition store resumes at the new
//! partition's own offset: a restart does not read the new topic from its beginning
//! again. (Read again at every start, its events older than the de-duplication window
//! would be stored again each time: duplicates of audit evidence.)
//!
//! The window (a million events) is too large to overflow here: the test counts the
//! events the restarted server read again and found stored (the duplicates counter),
//! which a re-read from the beginning raises by every event of the new topic.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, delete_topic, id_counts, metric, produce, shared_key, storing_config,
    unique,
};
use serve_support::{new_id, start, ServerProc};

/// Events `seqs` of node-1, written into `topic`.
fn produce_events(brokers: &str, topic: &str, seqs: std::ops::RangeInclusive<u64>) {
    let values: Vec<Vec<u8>> = seqs
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, 44), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "node": "node-1", "seq": n,
                "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
            .into_bytes()
        })
        .collect();
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(brokers, topic, &records);
}

fn wait_until(what: &str, server: &ServerProc, done: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < until, "{what}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn recreate(brokers: &str, topic: &str) {
    delete_topic(brokers, topic);
    // Created again once the broker has forgotten the old one: the new topic is empty.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        create_topic(brokers, topic, 1);
        if high_watermark(brokers, topic) == 0 {
            break;
        }
        assert!(Instant::now() < until, "the topic was not deleted");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const DUPLICATES: &str = "auditrail_kafka_source_events_duplicate_total";
const STORED: &str = "auditrail_kafka_source_events_stored_total";

#[test]
fn a_recreated_topic_shorter_than_the_old_one_is_read_again_once_not_at_every_start() {
    let brokers = brokers();
    let topic = unique("shorter");
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

    // The old topic: offsets 0..7.
    produce_events(&brokers, &topic, 1..=8);
    let server = start(d, &["--config", "s.toml"]);
    wait_until("the old topic's events were not stored", &server, || {
        id_counts(&root).len() == 8
    });
    assert_eq!(server.terminate(), 0);

    // The new topic: offsets 0..2, all below the store's offsets. On Kafka, the store's
    // resume offset (7) is past the new partition's end: the fetch is answered
    // OFFSET_OUT_OF_RANGE, the consumer resets to the earliest record, the records below
    // the store's offsets hold events it lacks, and the server writes the re-read marker
    // with the store's next offset as its bound. tansu, the tests' broker, answers such
    // a fetch with no records instead: that state is written here as the server writes
    // it (`<store_root>/<topic>/<partition>/reread`, see docs/scale-out.md).
    recreate(&brokers, &topic);
    produce_events(&brokers, &topic, 101..=103);
    std::fs::write(
        root.join(&topic).join("0").join("reread"),
        r#"{"until":8,"first_offset":0}"#,
    )
    .unwrap();
    let server = start(d, &["--config", "s.toml"]);
    wait_until("the new topic was not read", &server, || {
        id_counts(&root).len() == 11 && metric(&server, STORED) >= 3
    });
    assert_eq!(server.terminate(), 0);

    // Started again, then one more record: the store resumes at the new partition's
    // own offset, reads offset 3, and reads nothing of offsets 0..2 again.
    let server = start(d, &["--config", "s.toml"]);
    produce_events(&brokers, &topic, 104..=104);
    wait_until("the next record was not stored", &server, || {
        id_counts(&root).len() == 12 && metric(&server, STORED) >= 1
    });
    let log = server.stderr();
    let duplicates = metric(&server, DUPLICATES);
    assert_eq!(server.terminate(), 0);
    assert_eq!(
        duplicates, 0,
        "after its re-read, the recreated topic was read again from its beginning at the next start\n{log}"
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
