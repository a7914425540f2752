//! A topic deleted and created again is read again from its beginning once a record
//! below the store's offsets holds an event the store lacks. That re-read survives the
//! server: stopped during it (SIGTERM, then `kill -9`), the server goes on with it at
//! its next start instead of resuming at the store's highest offset, which by then is
//! one of the new topic's, above its records not yet stored. Every event of the new
//! topic is stored, each once.
//!
//! To stop the server during the re-read for certain, the new topic's first records
//! carry a routing key whose folder the store cannot make for now (an immutable
//! `generic` folder): the re-read reaches them and retries them until that is undone.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use kafka_support::{
    brokers, create_topic, delete_topic, id_counts, metric, produce, shared_key, storing_config,
    unique,
};
use serve_support::{new_id, start, ServerProc};

/// Events `seqs` of node-1 with routing key `rk`, written into `topic`.
fn produce_events(brokers: &str, topic: &str, seqs: std::ops::RangeInclusive<u64>, rk: &str) {
    let values: Vec<Vec<u8>> = seqs
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, 43), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "routingKey": rk, "node": "node-1", "seq": n,
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

#[test]
fn a_reread_of_a_recreated_topic_cut_short_by_stops_goes_on_and_stores_every_event_once() {
    let brokers = brokers();
    let topic = unique("reread");
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

    produce_events(&brokers, &topic, 1..=5, "a");
    let server = start(d, &["--config", "s.toml"]);
    wait_until("the first 5 events were not stored", &server, || {
        id_counts(&root).len() == 5
    });
    assert_eq!(server.terminate(), 0);

    recreate(&brokers, &topic);
    // Acknowledged by Kafka: offsets 0..3 with routing key `held`, 4..6 with `a`. The
    // store resumes at offset 4, finds an event it lacks, stores 4..6 and reads again
    // from the beginning, where `held` cannot be stored for now.
    produce_events(&brokers, &topic, 6..=9, "held");
    produce_events(&brokers, &topic, 10..=12, "a");
    let generic = store_of(&root, &topic).join("generic");
    let held = match auditrail_testkit::unwritable::Unwritable::make(&generic) {
        Ok(h) => h,
        Err(why) => {
            auditrail_testkit::prereq::skip(&format!(
                "cannot make a folder unwritable here: {why}"
            ));
            return;
        }
    };

    let server = start(d, &["--config", "s.toml"]);
    let alarmed = || {
        metric(
            &server,
            "auditrail_kafka_source_partition_not_the_stored_one_total",
        ) >= 1
    };
    wait_until("the new partition was not noticed", &server, alarmed);
    let rereading = || metric(&server, "auditrail_kafka_source_store_failures_total") >= 1;
    wait_until(
        "the re-read did not reach the held records",
        &server,
        rereading,
    );
    assert_eq!(id_counts(&root).len(), 8, "5 old events and offsets 4..6");
    assert_eq!(server.terminate(), 0);

    // Started again during the re-read: it goes on from the beginning (and meets the
    // held records again), then the process is killed.
    let server = start(d, &["--config", "s.toml"]);
    let rereading = || metric(&server, "auditrail_kafka_source_store_failures_total") >= 1;
    wait_until(
        "after a restart, the re-read did not go on from the beginning: the new topic's offsets 0..3 were skipped",
        &server,
        rereading,
    );
    server.kill9();

    drop(held);
    let server = start(d, &["--config", "s.toml"]);
    wait_until("events of the recreated topic were lost", &server, || {
        id_counts(&root).len() == 12
    });
    assert_eq!(server.terminate(), 0);
    let counts = id_counts(&root);
    assert_eq!(counts.len(), 12, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

/// The partition store of `topic`'s partition 0.
fn store_of(root: &Path, topic: &str) -> std::path::PathBuf {
    root.join(topic).join("0").join("store")
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
