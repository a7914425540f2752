//! A topic a storing server reads is deleted and created again while the server runs:
//! the server lives on and stores the new topic's events, each once. Before the patched
//! librdkafka (vendor/rdkafka-sys/PATCHES.md), the whole `serve` process died with SIGSEGV
//! here, every time: tansu answers a fetch of the topic it no longer has with a leader
//! change and a zero topic id, and librdkafka 2.12.1 looked a NULL topic name up in its
//! metadata cache.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{create_topic, delete_topic, id_counts, one_source, produce_events};
use serve_support::{start, ServerProc};

/// Waits until `n` distinct events are stored, failing at once if the server died.
fn wait_for_ids(server: &ServerProc, root: &std::path::Path, n: usize, what: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while id_counts(root).len() < n {
        assert!(
            server.child_alive(),
            "the server died ({what}): {:?}\n{}",
            id_counts(root),
            server.stderr()
        );
        assert!(
            Instant::now() < until,
            "{what}: {:?}\n{}",
            id_counts(root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_topic_deleted_and_created_again_under_a_running_server_does_not_kill_it() {
    let s = one_source("deleted", "");
    let d = s.dir.path();
    // librdkafka looks at the topic again within a second (it crashed with the default
    // five minutes too: the fetch, not the refresh, brings the fatal answer).
    let config = std::fs::read_to_string(d.join("s.toml")).unwrap();
    std::fs::write(
        d.join("s.toml"),
        format!("{config}\"topic.metadata.refresh.interval.ms\" = 1000\n"),
    )
    .unwrap();
    produce_events(&s.brokers, &s.topic, 1, 5, 61);
    let server = start(d, &["--config", "s.toml"]);
    wait_for_ids(&server, &s.root, 5, "the first 5 events were not stored");

    delete_topic(&s.brokers, &s.topic);
    // Created again once the broker has forgotten the old one: the new topic is empty.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        create_topic(&s.brokers, &s.topic, 1);
        if high_watermark(&s.brokers, &s.topic) == 0 {
            break;
        }
        assert!(Instant::now() < until, "the topic was not deleted");
        std::thread::sleep(Duration::from_millis(200));
    }
    produce_events(&s.brokers, &s.topic, 6, 10, 61);
    wait_for_ids(
        &server,
        &s.root,
        10,
        "the recreated topic's events were not stored",
    );
    assert!(server.child_alive(), "{}", server.stderr());
    assert_eq!(server.terminate(), 0);
    let counts = id_counts(&s.root);
    assert_eq!(counts.len(), 10, "{counts:?}");
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
