//! The Kafka side of `cargo xtask bench scale` (docs/scale-out.md, docs/benchmarks.md),
//! which runs storing servers (`auditrail serve` with a `kafka` source) against a topic
//! this program fills, and compares them with this program's bare consumer:
//!
//! ```text
//! kafka-scale load    --brokers B --topic T [--partitions 6] --events N [--nodes 60] [--event-bytes 300] [--batch-records 10000]
//! kafka-scale consume --brokers B --topic T --group G --events N [--fetch-wait-ms MS]
//! ```
//!
//! - `load` creates the topic and produces N events of about `--event-bytes` bytes as the
//!   `kafka` target writes them (the event's JSON as the value, the node id as the key,
//!   the `auditrail-*` headers), idempotent with `acks=all`, and waits for every delivery
//!   report. Node `k` of `--nodes` writes into partition `k % partitions`, so that every
//!   partition holds the same number of events: with librdkafka's hash partitioner over a
//!   few dozen node ids the partitions would differ by tens of percent, and the bench
//!   would measure the hash's luck instead of the servers. Each node's events carry
//!   `seq` 1, 2, 3... in order, so a store's per-node gap report is clean.
//! - `consume` is the baseline: a bare rdkafka consumer in a fresh group with the
//!   properties the `kafka` source sets for itself (cooperative-sticky,
//!   `read_committed`, no auto commit, earliest offset), which only counts the records
//!   it reads: no decoding, no store, no commit. It is timed from the moment the group
//!   assigned it its partitions to the N-th record, as the bench times the servers.
//!
//! Each prints one line of `key=value` pairs on stdout for the bench to read.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use auditrail_target_kafka::{HEADER_EVENT_ID, HEADER_NODE, HEADER_ROUTING_KEY, HEADER_TOPIC};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext};

/// How long `consume` waits for the next record before it gives up.
const IDLE_LIMIT: Duration = Duration::from_secs(120);

const USAGE: &str = "usage: kafka-scale load --brokers B --topic T [--partitions 6] --events N \
                     [--nodes 60] [--event-bytes 300] [--batch-records 10000]\n       \
                     kafka-scale consume --brokers B --topic T --group G --events N [--fetch-wait-ms MS]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        fail(USAGE);
    };
    let options = parse(rest);
    let get = |name: &str| -> String {
        options
            .get(name)
            .cloned()
            .unwrap_or_else(|| fail(&format!("--{name} is required\n{USAGE}")))
    };
    let number = |name: &str, default: Option<u64>| -> u64 {
        match options.get(name) {
            Some(v) => v
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| fail(&format!("--{name}: {v:?} is not a positive number"))),
            None => default.unwrap_or_else(|| fail(&format!("--{name} is required\n{USAGE}"))),
        }
    };
    match command.as_str() {
        "load" => load(&Load {
            brokers: get("brokers"),
            topic: get("topic"),
            partitions: i32::try_from(number("partitions", Some(6))).unwrap_or(6),
            events: number("events", None),
            nodes: number("nodes", Some(60)),
            event_bytes: usize::try_from(number("event-bytes", Some(300))).unwrap_or(300),
            batch_records: number("batch-records", Some(10_000)),
        }),
        "consume" => consume(
            &get("brokers"),
            &get("topic"),
            &get("group"),
            number("events", None),
            options.get("fetch-wait-ms").map(String::as_str),
        ),
        "-h" | "--help" => println!("{USAGE}"),
        other => fail(&format!("unknown command {other:?}\n{USAGE}")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("kafka-scale: {message}");
    std::process::exit(2)
}

/// `--name value` pairs.
fn parse(args: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(name) = arg.strip_prefix("--") else {
            fail(&format!("unexpected argument {arg:?}\n{USAGE}"));
        };
        let value = it
            .next()
            .unwrap_or_else(|| fail(&format!("{arg} needs a value")));
        out.insert(name.to_owned(), value.clone());
    }
    out
}

struct Load {
    brokers: String,
    topic: String,
    partitions: i32,
    events: u64,
    nodes: u64,
    event_bytes: usize,
    /// librdkafka's `batch.num.messages` (records per producer batch).
    batch_records: u64,
}

/// Counts delivery reports, per partition.
#[derive(Default)]
struct Deliveries {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    per_partition: Mutex<BTreeMap<i32, u64>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(m) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                *self
                    .per_partition
                    .lock()
                    .unwrap()
                    .entry(m.partition())
                    .or_default() += 1;
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first_error
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| e.to_string());
            }
        }
    }
}

fn create_topic(brokers: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap_or_else(|e| fail(&format!("admin client: {e}")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(admin.create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        ))
        .unwrap_or_else(|e| fail(&format!("creating topic {topic}: {e}")));
    for r in results {
        if let Err((name, code)) = r {
            // A fresh name per run: an existing topic would hold another run's events.
            fail(&format!("cannot create topic {name}: {code:?}"));
        }
    }
}

/// One event's JSON of about `size` bytes (as the load generators of the event server
/// write them), with a UUID-shaped id unique within the run.
fn event_json(out: &mut Vec<u8>, run: u32, i: u64, node: &str, seq: u64, size: usize) -> String {
    use std::io::Write;
    out.clear();
    let id = format!(
        "{run:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        (i >> 60) & 0xf,
        (i >> 48) & 0xfff,
        (i >> 36) & 0xfff,
        i & 0xffff_ffff_ffff
    );
    let _ = write!(
        out,
        "{{\"id\":\"{id}\",\"timestamp\":\"2026-11-25T16:55:49.123Z\",\
         \"topic\":\"generic\",\"routingKey\":\"svc-a\",\"node\":\"{node}\",\"seq\":{seq},\
         \"message\":{{\"msgType\":\"dataset-read-data\",\"authUser\":\"user-{}\",\"clientIP\":\"10.0.0.7\",\"pad\":\"",
        seq % 1000,
    );
    let pad = size.saturating_sub(out.len() + 3);
    out.resize(out.len() + pad, b'x');
    out.extend_from_slice(b"\"}}");
    id
}

fn load(l: &Load) {
    create_topic(&l.brokers, &l.topic, l.partitions);
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", &l.brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "20")
        .set("batch.num.messages", l.batch_records.to_string())
        .set("queue.buffering.max.messages", "200000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create_with_context(Deliveries::default())
        .unwrap_or_else(|e| fail(&format!("producer: {e}")));
    let run = std::process::id();
    let nodes: Vec<String> = (0..l.nodes).map(|k| format!("scale-node-{k:03}")).collect();
    let mut seqs = vec![0u64; nodes.len()];
    let mut payload = Vec::with_capacity(l.event_bytes + 64);
    let mut bytes = 0u64;
    let started = Instant::now();
    for i in 0..l.events {
        let k = usize::try_from(i % l.nodes).unwrap_or(0);
        seqs[k] += 1;
        let node = &nodes[k];
        let id = event_json(&mut payload, run, i, node, seqs[k], l.event_bytes);
        bytes += payload.len() as u64;
        let partition = i32::try_from(k as u64 % l.partitions as u64).unwrap_or(0);
        loop {
            let headers = OwnedHeaders::new_with_capacity(4)
                .insert(Header {
                    key: HEADER_TOPIC,
                    value: Some("generic"),
                })
                .insert(Header {
                    key: HEADER_EVENT_ID,
                    value: Some(id.as_str()),
                })
                .insert(Header {
                    key: HEADER_NODE,
                    value: Some(node.as_str()),
                })
                .insert(Header {
                    key: HEADER_ROUTING_KEY,
                    value: Some("svc-a"),
                });
            let record = BaseRecord::to(&l.topic)
                .key(node.as_str())
                .payload(payload.as_slice())
                .partition(partition)
                .headers(headers);
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => fail(&format!("producing: {e}")),
            }
        }
        if i % 1000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    if let Err(e) = producer.flush(Duration::from_secs(300)) {
        fail(&format!("flushing: {e}"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let ctx = producer.context();
    let delivered = ctx.delivered.load(Ordering::Relaxed);
    let failed = ctx.failed.load(Ordering::Relaxed);
    if delivered != l.events || failed > 0 {
        fail(&format!(
            "{delivered} of {} events delivered, {failed} failed (first: {})",
            l.events,
            ctx.first_error.lock().unwrap().as_deref().unwrap_or("-")
        ));
    }
    let per_partition: Vec<String> = ctx
        .per_partition
        .lock()
        .unwrap()
        .values()
        .map(u64::to_string)
        .collect();
    println!(
        "events={delivered} bytes={bytes} seconds={seconds:.3} nodes={} per_partition={}",
        l.nodes,
        per_partition.join(",")
    );
}

/// Records when the group assigned this consumer its partitions.
#[derive(Default)]
struct Assigned {
    at: Mutex<Option<(Instant, f64)>>,
    partitions: AtomicU64,
}

impl ClientContext for Assigned {}

impl ConsumerContext for Assigned {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            let count = consumer.assignment().map_or(0, |a| a.count());
            self.partitions.store(count as u64, Ordering::Relaxed);
            self.at
                .lock()
                .unwrap()
                .get_or_insert_with(|| (Instant::now(), cpu_seconds()));
        }
    }
}

fn consume(brokers: &str, topic: &str, group: &str, events: u64, fetch_wait_ms: Option<&str>) {
    // The properties the `kafka` source sets (crates/eventserver/src/source/kafka.rs),
    // and the session timeout, heartbeat and fetch wait the bench gives the servers.
    let mut config = ClientConfig::new();
    if let Some(ms) = fetch_wait_ms {
        config.set("fetch.wait.max.ms", ms);
    }
    let consumer: BaseConsumer<Assigned> = config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("statistics.interval.ms", "5000")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create_with_context(Assigned::default())
        .unwrap_or_else(|e| fail(&format!("consumer: {e}")));
    let _ = cpu_seconds(); // asks getconf now, not inside the rebalance callback
    consumer
        .subscribe(&[topic])
        .unwrap_or_else(|e| fail(&format!("subscribing to {topic}: {e}")));
    let started = Instant::now();
    let (mut records, mut bytes, mut gaps) = (0u64, 0u64, 0u64);
    // The offset each partition should show next: a record past it means records were
    // skipped (the topic is never compacted), which no consumer may do.
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut last = Instant::now();
    while records < events {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                records += 1;
                bytes += m.payload_len() as u64;
                last = Instant::now();
                if let Some(&expected) = next.get(&m.partition()) {
                    if m.offset() != expected {
                        gaps += 1;
                        eprintln!(
                            "kafka-scale: partition {}: offset {} read after {} (expected {expected})",
                            m.partition(),
                            m.offset(),
                            expected - 1
                        );
                    }
                }
                next.insert(m.partition(), m.offset() + 1);
            }
            Some(Err(e)) => eprintln!("kafka-scale: reading: {e}"),
            None if last.elapsed() > IDLE_LIMIT => fail(&format!(
                "only {records} of {events} records within {IDLE_LIMIT:?} of the last one"
            )),
            None => {}
        }
    }
    let end = Instant::now();
    let cpu_end = cpu_seconds();
    let (assigned_at, cpu_at_assignment) = consumer
        .context()
        .at
        .lock()
        .unwrap()
        .unwrap_or((started, 0.0));
    println!(
        "records={records} bytes={bytes} partitions={} assigned_after={:.3} seconds={:.3} cpu_seconds={:.3} offset_jumps={gaps}",
        consumer.context().partitions.load(Ordering::Relaxed),
        assigned_at.duration_since(started).as_secs_f64(),
        end.duration_since(assigned_at).as_secs_f64(),
        cpu_end - cpu_at_assignment,
    );
}

/// This process's user + system CPU seconds (`/proc/self/stat` fields 14 and 15, in
/// clock ticks; `getconf CLK_TCK`, 100 when it cannot be asked). 0 off Linux.
fn cpu_seconds() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let tck = *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let Ok(text) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = text.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (ticks(14), ticks(15)) {
        (Some(u), Some(s)) => (u + s) as f64 / tck,
        _ => 0.0,
    }
}
