//! A storing server's Kafka source, restarted, reads its partition store's last offset
//! again on purpose (docs/scale-out.md: "it is then no duplicate and no alarm"). That
//! record is no producer's retry, so it is counted as a duplicate nowhere: not by the
//! source, not in `/v1/stats` (globally or per node), not in `/metrics`. Before, the
//! node's count had it (`nodes.<node>.duplicates = 1`,
//! `auditrail_server_node_events_duplicate_total{node} 1`) while every other count
//! stayed 0 (/work/tryout case `01-kafka-restart-counts-node-duplicate.sh`).
//! With the tansu broker `cargo xtask test` starts (or `AUDITRAIL_KAFKA_BROKERS`).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::server_support;

use std::time::Duration;

use rdkafka::producer::FutureRecord;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_offset_read_again_after_a_restart_is_no_duplicate_of_its_node() {
    let brokers = kafka_support::brokers();
    let topic = kafka_support::new_topic(&brokers, "restart").await;
    let producer = kafka_support::producer(&brokers);
    let produce = |seq: u64| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            let value = event_with("n1", seq, "generic", None).to_string();
            producer
                .send(
                    FutureRecord::to(&topic).key("n1").payload(&value),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
                .unwrap();
        }
    };
    let source = format!(
        "[[sources]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopics = [\"{topic}\"]\n\
         group_id = \"g-{topic}\"\nstore_root = \"partitions\"\naccept_unsigned = true\n\
         [sources.librdkafka]\n\"session.timeout.ms\" = 6000\n\
         \"heartbeat.interval.ms\" = 500\n"
    );
    for seq in 1..=3 {
        produce(seq).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = config_from(dir.path(), &source);
    let s = start_with(dir, config).await;
    assert!(
        eventually_async(Duration::from_secs(60), || async {
            metric_sum(&s, "auditrail_kafka_source_events_stored_total").await == 3
        })
        .await,
        "the three events were not stored"
    );
    let dir = s.dir;
    s.running.shutdown().await;

    let config = config_from(dir.path(), &source);
    let s = start_with(dir, config).await;
    // The store's last offset (2) is read again first, then the new record: once that
    // one is stored, the re-read was written too (a partition's batches are written in
    // offset order).
    produce(4).await;
    assert!(
        eventually_async(Duration::from_secs(60), || async {
            metric_sum(&s, "auditrail_kafka_source_events_stored_total").await == 1
        })
        .await,
        "the event sent after the restart was not stored"
    );
    assert!(
        metric_sum(&s, "auditrail_kafka_source_records_total").await >= 2,
        "the store's last offset was not read again"
    );
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(stats["nodes"]["n1"]["count"], 4, "{stats}");
    assert_eq!(
        (&stats["nodes"]["n1"]["duplicates"], &stats["duplicates"],),
        (&serde_json::json!(0), &serde_json::json!(0)),
        "the record read again on purpose is no duplicate: {stats}"
    );
    assert_eq!(
        metric_sum(&s, "auditrail_server_node_events_duplicate_total").await,
        0
    );
    assert_eq!(
        metric_sum(&s, "auditrail_kafka_source_events_duplicate_total").await,
        0
    );
    s.running.shutdown().await;
}

/// Whether `f` holds within `within` (polled).
async fn eventually_async<F, Fut>(within: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + within;
    loop {
        if f().await {
            return true;
        }
        if std::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
