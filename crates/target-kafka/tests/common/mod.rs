//! Shared by the integration tests: the broker address, topic creation, reading a
//! topic back with a real consumer, and a dispatcher with one `kafka` target.
#![allow(dead_code)]
// each test file uses a different part of this module
// Test support: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod own_broker;

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use auditrail_core::{DeliveryOptions, Dispatcher, Event, Filter, NodeId};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Where the tests find Kafka.
pub(crate) const BROKERS_ENV: &str = "AUDITRAIL_KAFKA_BROKERS";

/// The bootstrap servers. A test without a broker FAILS (it must never pass silently).
pub(crate) fn brokers() -> String {
    match std::env::var(BROKERS_ENV) {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!(
            "{BROKERS_ENV} is not set: the Kafka tests need a real broker. Run them with \
             `cargo xtask test` (it starts a local tansu broker on a free port), or start one \
             yourself, e.g. `tansu broker --listener-url tcp://127.0.0.1:9092 \
             --advertised-listener-url tcp://127.0.0.1:9092 --storage-engine memory://tansu/`, \
             and set {BROKERS_ENV}=127.0.0.1:9092 (any Kafka cluster works)"
        ),
    }
}

/// A topic name no other test (or earlier run against the same broker) uses.
pub(crate) fn unique_topic(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates topics with 3 partitions through the Kafka admin API (CreateTopics),
/// so the tests work against any cluster. An existing topic is fine.
pub(crate) async fn create_topics(brokers: &str, names: &[&str]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, 3, TopicReplication::Fixed(1)))
        .collect();
    let results = admin
        .create_topics(
            &topics,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("CreateTopics request");
    for r in results {
        match r {
            Ok(_) => {}
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => panic!("cannot create topic {name}: {code:?}"),
        }
    }
}

/// One record as a consumer sees it.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Record {
    pub(crate) fn event(&self) -> Event {
        Event::from_json_slice(&self.value).expect("record value is an event")
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_ref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    pub(crate) fn key_str(&self) -> Option<String> {
        self.key
            .as_ref()
            .map(|k| String::from_utf8_lossy(k).into_owned())
    }
}

/// Every record of `topic`, read with a real consumer from the beginning of each
/// partition until the consumer reports the end of every partition.
pub(crate) async fn read_topic(brokers: &str, topic: &str) -> Vec<Record> {
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || read_topic_blocking(&brokers, &topic))
        .await
        .expect("reader thread")
}

fn read_topic_blocking(brokers: &str, topic: &str) -> Vec<Record> {
    // The end of a partition is taken from the consumer's end-of-partition events, not
    // from ListOffsets: tansu 0.6 reports a high watermark that counts record batches
    // rather than records, while its fetch responses are right.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique_topic("reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    let partitions: HashSet<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    assert!(!partitions.is_empty(), "topic {topic} has no partitions");
    let mut tpl = TopicPartitionList::new();
    for &p in &partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("assignment");
    }
    consumer.assign(&tpl).expect("assign");
    let mut at_end: HashSet<i32> = HashSet::new();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while at_end != partitions {
        assert!(
            Instant::now() < deadline,
            "reading {topic}: only partitions {at_end:?} of {partitions:?} reached their end \
             within 30 s ({} records read)",
            out.len()
        );
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => panic!("consuming {topic}: {e}"),
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Record {
                    topic: m.topic().to_owned(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                    headers,
                });
            }
        }
    }
    out
}

/// A dispatcher with one `kafka` target named `kafka` built from `config`, its
/// run and dead-letter folders under `dir`.
pub(crate) fn dispatcher(
    dir: &Path,
    config: serde_json::Value,
    filter: Filter,
    options: DeliveryOptions,
) -> Dispatcher {
    Dispatcher::builder(NodeId::new("node-1").expect("node id"))
        .run_dir(dir.join("run"))
        .dead_letter_dir(dir.join("deadletter"))
        .registered_target(
            "kafka",
            &auditrail_target_kafka::REGISTRATION,
            config,
            filter,
            options,
        )
        .build()
        .expect("dispatcher with a kafka target")
}

/// The dead-letter lines of the target named `kafka`.
pub(crate) fn dead_letters(dir: &Path) -> Vec<serde_json::Value> {
    let path = dir.join("deadletter").join("kafka.jsonl");
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).expect("dead-letter line is JSON"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Shows the target's and librdkafka's logs when `RUST_LOG` is set (e.g.
/// `RUST_LOG=info`), for diagnosing a failing test.
pub(crate) fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
