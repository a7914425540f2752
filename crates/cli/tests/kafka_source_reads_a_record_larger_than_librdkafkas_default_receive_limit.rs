//! A record larger than librdkafka's default `receive.message.max.bytes` (100 MB), which
//! the broker took (tansu sets no limit; Kafka does once a topic's `max.message.bytes`
//! allows it), is read and stored, and the event after it too. Before, librdkafka
//! dropped the broker's connection at each fetch of it ("Invalid response size ...:
//! increase receive.message.max.bytes"): that partition, and every other the broker
//! led, was never read again.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::{Duration, Instant};

use kafka_support::{id_counts, one_source, OneSource};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serve_support::{event_line, new_id, start};

/// Just past librdkafka's default `receive.message.max.bytes` (100 000 000).
const BIG: usize = 100_000_000;

#[test]
fn a_record_past_librdkafkas_default_receive_limit_is_stored_and_the_partition_goes_on() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("huge", "");
    let big = serde_json::json!({
        "id": new_id(1, 71), "timestamp": "2026-11-25T16:55:49.123Z", "topic": "generic",
        "node": "node-1", "seq": 1, "message": {"msgType": "login", "blob": "x".repeat(BIG)}
    })
    .to_string();
    let small = event_line(&new_id(2, 71), "node-1", 2);
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("batch.num.messages", "1")
        .set("message.max.bytes", "200000000")
        .create()
        .unwrap();
    for value in [&big, &small] {
        producer
            .send(
                BaseRecord::<str, str>::to(&topic)
                    .key("node-1")
                    .payload(value),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    drop(producer);
    drop(big);
    // Past the source's default `max_record_bytes` (16 MiB) too: raised for it.
    let config = std::fs::read_to_string(dir.path().join("s.toml")).unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        config.replace(
            "accept_unsigned = true\n",
            "accept_unsigned = true\nmax_record_bytes = 200000000\n",
        ),
    )
    .unwrap();

    let server = start(dir.path(), &["--config", "s.toml"]);
    let until = Instant::now() + Duration::from_secs(120);
    while id_counts(&root).len() < 2 {
        assert!(
            Instant::now() < until,
            "not stored: {:?}\n{}",
            id_counts(&root),
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.terminate(), 0);
    let counts = id_counts(&root);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}
