//! Kafka target throughput against a real broker (`AUDITRAIL_KAFKA_BROKERS`), with
//! ~300-byte events, compared in the same run with a bare rdkafka `FutureProducer`
//! that sends the same serialized records (same key and headers) with the same
//! producer settings. Both wait for every delivery report of each 1000-record batch.
//! Reported twice: alternating rounds of the two (the fair ratio: the broker keeps
//! every record in memory and the machine is shared), then criterion's measurement of
//! each in turn.
//!
//! `AUDITRAIL_KAFKA_BROKERS=127.0.0.1:9092 cargo bench -p auditrail-target-kafka`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::{BuildContext, Event, EventId, NodeId, TargetConfig};
use auditrail_target_kafka::{
    KafkaConfig, ProducerSettings, HEADER_EVENT_ID, HEADER_NODE, HEADER_ROUTING_KEY, HEADER_TOPIC,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

const EVENTS: usize = 10_000;
const BATCH: usize = 1000;
const ROUNDS: usize = 15;

fn brokers() -> String {
    std::env::var("AUDITRAIL_KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!(
            "AUDITRAIL_KAFKA_BROKERS is not set: this benchmark needs a Kafka broker \
             (`cargo xtask bench kafka` starts one)"
        )
    })
}

fn events() -> Vec<Arc<Event>> {
    (0..EVENTS)
        .map(|i| {
            let json = serde_json::json!({
                "id": EventId::new().to_string(),
                "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "apinode-query",
                "routingKey": format!("svc-{}", i % 8),
                "node": "bench-node",
                "seq": i,
                "message": {"msgType": "prediction-query", "authUser": "alice",
                            "clientIP": "10.0.0.1", "model": "m-42",
                            "payload": "x".repeat(30)}
            });
            Arc::new(Event::from_json(&json.to_string()).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let brokers = brokers();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let topic = format!("bench-{}", std::process::id());
    rt.block_on(async {
        let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .unwrap();
        admin
            .create_topics(
                &[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            )
            .await
            .unwrap();
    });
    let config: KafkaConfig =
        serde_json::from_value(serde_json::json!({"brokers": brokers, "topic": topic})).unwrap();
    let ctx = BuildContext::new(
        NodeId::new("bench-node").unwrap(),
        "kafka-bench",
        std::env::temp_dir(),
        std::env::temp_dir().join("deadletter"),
        rt.handle().clone(),
    );
    let events = events();
    let avg = events.iter().map(|e| e.to_json().len()).sum::<usize>() / events.len();
    eprintln!("average event JSON size: {avg} bytes");

    // The baseline: the same records, serialized up front.
    let settings = ProducerSettings::from_config(&config, &ctx);
    let bare: FutureProducer = settings.client_config().create().unwrap();
    let records: Vec<(Vec<u8>, String, Event)> = events
        .iter()
        .map(|e| {
            (
                e.to_json().into_bytes(),
                e.routing_key.as_ref().unwrap().to_string(),
                (**e).clone(),
            )
        })
        .collect();

    let mut target = rt.block_on(async { config.clone().build(&ctx).unwrap() });

    let bare_round = || {
        rt.block_on(async {
            for chunk in records.chunks(BATCH) {
                let mut pending = Vec::with_capacity(BATCH);
                for (value, key, e) in chunk {
                    let id = e.id.to_string();
                    let headers = OwnedHeaders::new_with_capacity(4)
                        .insert(Header {
                            key: HEADER_TOPIC,
                            value: Some(e.topic.as_str()),
                        })
                        .insert(Header {
                            key: HEADER_EVENT_ID,
                            value: Some(id.as_str()),
                        })
                        .insert(Header {
                            key: HEADER_NODE,
                            value: Some(e.node.as_str()),
                        })
                        .insert(Header {
                            key: HEADER_ROUTING_KEY,
                            value: Some(key.as_str()),
                        });
                    let record = FutureRecord::to(&topic)
                        .payload(value.as_slice())
                        .key(key.as_str())
                        .headers(headers);
                    pending.push(bare.send_result(record).map_err(|(e, _)| e).unwrap());
                }
                for p in pending {
                    p.await.unwrap().map_err(|(e, _)| e).unwrap();
                }
            }
        })
    };
    let mut target_round = || {
        rt.block_on(async {
            for chunk in events.chunks(BATCH) {
                target.send(chunk).await.unwrap();
            }
        })
    };

    // 1. Alternating rounds: the broker keeps every record in memory and the machine
    // is shared, so rounds of the two alternate and the ratio of medians is reported.
    let mut bare_s = Vec::new();
    let mut target_s = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        bare_round();
        bare_s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        target_round();
        target_s.push(t.elapsed().as_secs_f64());
    }
    let rate = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        EVENTS as f64 / v[v.len() / 2]
    };
    let (bare_rate, target_rate) = (rate(&mut bare_s), rate(&mut target_s));
    println!(
        "alternating {ROUNDS} rounds of {EVENTS} events: bare rdkafka {bare_rate:.0} events/s, \
         kafka target {target_rate:.0} events/s, ratio {:.2}",
        target_rate / bare_rate
    );

    // 2. Criterion's own measurement of each (sequential: see the note above).
    let mut group = c.benchmark_group("kafka");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("bare_rdkafka_future_producer", |b| b.iter(bare_round));
    group.bench_function("kafka_target_send", |b| b.iter(&mut target_round));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
