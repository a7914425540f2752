//! A storing server shows what its Kafka source stores as the HTTP ingest shows what it
//! stores: in the live view (`/v1/recent`, each event with the Kafka record it was read
//! from, `"source":{"kafka":{...}}` as in its stored record) and in the counters of
//! `/v1/stats` (`accepted`, `duplicates`, per topic). Before, a storing server's live
//! view stayed empty and its counters at 0 while it stored every event.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, metric, one_source, produce, OneSource};
use serve_support::{event_line, new_id, request, start};

#[test]
fn kafka_source_events_are_shown_in_the_live_view_and_counted_in_stats() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("shown", "");
    let d = dir.path();

    // Three events, the second read twice (a producer's retry): two stored, one
    // duplicate.
    let line = |n: u64| event_line(&new_id(n, 71), "node-1", n).into_bytes();
    let values = [line(1), line(2), line(2), line(3)];
    let records: Vec<(&str, Option<&[u8]>)> = values
        .iter()
        .map(|v| ("node-1", Some(v.as_slice())))
        .collect();
    produce(&brokers, &topic, &records);

    let server = start(d, &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(60);
    // The source's own counters move after the store wrote the batch, and after the
    // batch was shown.
    while metric(&server, "auditrail_kafka_source_events_stored_total") < 3
        || metric(&server, "auditrail_kafka_source_events_duplicate_total") < 1
    {
        assert!(
            Instant::now() < until,
            "the events were not stored: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    assert_eq!(id_counts(&root).len(), 3);
    let (status, body) = request(&server.addr, "GET", "/v1/recent", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let recent: serde_json::Value = serde_json::from_str(&body).unwrap();
    let events = recent["events"].as_array().expect("an events list");
    let shown: Vec<(&str, i64)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["source"]["kafka"]["topic"], topic.as_str(), "{e}");
            assert_eq!(e["source"]["kafka"]["partition"], 0, "{e}");
            (
                e["clientEvent"]["id"].as_str().unwrap(),
                e["source"]["kafka"]["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    let (one, two, three) = (new_id(1, 71), new_id(2, 71), new_id(3, 71));
    // Newest first; the duplicate (offset 2) not shown again.
    assert_eq!(
        shown,
        [(three.as_str(), 3), (two.as_str(), 1), (one.as_str(), 0)],
        "{body}"
    );
    // As read from the topic.
    assert_eq!(
        serde_json::to_vec(&events[1]["clientEvent"]).unwrap(),
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&values[1]).unwrap())
            .unwrap()
    );

    let (status, body) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["accepted"], 3, "{body}");
    assert_eq!(stats["duplicates"], 1, "{body}");
    let topic_of_events = events[0]["clientEvent"]["topic"].as_str().unwrap();
    assert_eq!(stats["topics"][topic_of_events]["accepted"], 3, "{body}");
    assert_eq!(stats["topics"][topic_of_events]["duplicates"], 1, "{body}");
    assert_eq!(
        metric(&server, "auditrail_server_topic_events_accepted_total"),
        3
    );
    assert_eq!(server.terminate(), 0);
}
