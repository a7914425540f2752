//! An event that a partition store refuses for good (the file system will never make its
//! partition folder: here a file sits where the folder of routing key `svc-x` must go,
//! `EEXIST`/`ENOTDIR`, like `ENAMETOOLONG` for a path too long) costs that event alone:
//! it is dead-lettered in the source's dead-letter file (topic, partition, offset, the
//! store's reason, the event's text, the line format of records that are not events),
//! counted, logged, and the partition moves on: the events after it are stored and the
//! batch is not retried. Before, the batch failed, its offset was never passed and the
//! same record was read, refused and logged again for ever, holding up the partition.
//! With the tansu broker `cargo xtask test` starts (or `AUDITRAIL_KAFKA_BROKERS`).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::server_support;

use std::time::{Duration, Instant};

use rdkafka::producer::FutureRecord;
use serde_json::Value;
use server_support::*;

/// How many events the store holds (polled while the source writes: a store not made
/// yet, or a line being written, is not counted).
fn stored_count(store: &std::path::Path) -> usize {
    auditrail_testkit::store::stored_in(store).len()
}

/// The `clientEvent.seq` and `source.kafka.offset` of each stored record, by offset.
fn stored(store: &std::path::Path) -> Vec<(u64, i64)> {
    let mut out: Vec<(u64, i64)> = stored_records(store)
        .iter()
        .map(|r| {
            (
                r["clientEvent"]["seq"].as_u64().unwrap(),
                r["source"]["kafka"]["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort_unstable_by_key(|(_, offset)| *offset);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_refused_for_good_is_dead_lettered_and_the_events_after_it_are_stored() {
    let brokers = kafka_support::brokers();
    let topic = kafka_support::new_topic(&brokers, "refused").await;
    let producer = kafka_support::producer(&brokers);
    let produce = |event: Value| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            let value = event.to_string();
            producer
                .send(
                    FutureRecord::to(&topic).key("n1").payload(&value),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
                .unwrap();
            value
        }
    };

    let dir = tempfile::tempdir().unwrap();
    let config = config_from(
        dir.path(),
        &format!(
            "[[sources]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopics = [\"{topic}\"]\n\
             group_id = \"g-{topic}\"\nstore_root = \"partitions\"\naccept_unsigned = true\n\
             [sources.librdkafka]\n\"session.timeout.ms\" = 6000\n\
             \"heartbeat.interval.ms\" = 500\n"
        ),
    );
    let s = start_with(dir, config).await;
    let data = s.dir.path().join("data");
    let store = data.join("partitions").join(&topic).join("0").join("store");

    produce(event_with("n1", 1, "generic", Some("svc-a"))).await;
    assert!(
        eventually(Duration::from_secs(60), || stored_count(&store) == 1).await,
        "the first event was not stored"
    );
    // Something that is not the store's sits where the partition folder of `svc-x` goes.
    std::fs::create_dir_all(store.join("generic")).unwrap();
    std::fs::write(store.join("generic/svc-x"), b"not a folder").unwrap();

    let refused = produce(event_with("n1", 2, "generic", Some("svc-x"))).await;
    // Until the source has dealt with it: dead-lettered it, or failed its batch.
    let dead_letters = data.join("deadletter/source-kafka.jsonl");
    let until = Instant::now() + Duration::from_secs(60);
    while !dead_letters.exists()
        && metric_sum(&s, "auditrail_kafka_source_store_failures_total").await == 0
    {
        assert!(
            Instant::now() < until,
            "the refused event was not dealt with"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The events after it, in later batches, are stored: the partition moved on.
    produce(event_with("n1", 3, "generic", Some("svc-b"))).await;
    produce(event_with("n1", 4, "generic", Some("svc-a"))).await;
    assert!(
        eventually(Duration::from_secs(30), || stored_count(&store) == 3).await,
        "the partition is stuck behind the refused event: the events after it were not \
         stored ({} store failures, {} events stored)",
        metric_sum(&s, "auditrail_kafka_source_store_failures_total").await,
        stored_count(&store)
    );
    assert_eq!(stored(&store), [(1, 0), (3, 2), (4, 3)]);

    let dead = std::fs::read_to_string(&dead_letters).unwrap();
    let lines: Vec<Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "dead-lettered once: {dead}");
    let line = &lines[0];
    assert_eq!(
        line["kafka"],
        serde_json::json!({"topic": topic, "partition": 0, "offset": 1}),
        "{line}"
    );
    assert_eq!(
        line["value"]["text"],
        refused.as_str(),
        "the event's text, as read"
    );
    let error = line["error"].as_str().unwrap();
    assert!(
        error.contains("generic/svc-x") && error.contains("retrying cannot help"),
        "the store's reason, naming the folder: {error}"
    );
    assert!(line["deadLetteredAt"].is_string(), "{line}");

    // The counters move once the store's write returned, a moment after its records are
    // in the files the test read above: waited for, not raced.
    let until = Instant::now() + Duration::from_secs(30);
    while metric_sum(&s, "auditrail_kafka_source_events_stored_total").await < 3
        && Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        metric_sum(&s, "auditrail_kafka_source_events_refused_total").await,
        1
    );
    assert_eq!(
        metric_sum(&s, "auditrail_kafka_source_events_stored_total").await,
        3
    );
    assert_eq!(
        metric_sum(&s, "auditrail_kafka_source_store_failures_total").await,
        0,
        "the batch with the refused event is no failure to retry"
    );
    // Nothing is read again: a while later, still one dead letter, nothing more stored.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = std::fs::read_to_string(&dead_letters).unwrap();
    assert_eq!(again.lines().count(), 1, "{again}");
    assert_eq!(
        std::fs::read(store.join("generic/svc-x")).unwrap(),
        b"not a folder",
        "what was in the way is left alone"
    );
    s.running.shutdown().await;
}
