//! A partition store whose integrity check refuses it (here: its last record removed
//! by hand, below the last signed checkpoint) is held: the partition stays paused,
//! nothing of it is stored or committed, the store is opened once and not again (no
//! recovery, no new owner epoch, not a byte of the partition's folder changed), the
//! log says so once at ERROR, `/readyz` names it under `held` (the server stays ready:
//! the other partition stores its events) and `auditrail_kafka_source_partitions_held`
//! is 1. Nothing is lost: once a person accepted the store's state, the next start
//! reads the partition's records from the store's offset, the removed one included.
//! Before, the open was retried with backoff for ever, each retry running the store's
//! recovery and raising its owner epoch, said only by a WARN every 10th failure.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use kafka_support::{
    brokers, create_topic, id_counts, metric, run_in, serve_until_stored, shared_key,
    storing_config, unique,
};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serve_support::{event_line, new_id, request, start, stored_ids, ServerProc};

/// The text of the line that says a partition store is held.
const HELD: &str = "partition store held";

/// Writes events `seqs` of `node` into `partition` of `topic`.
fn produce_to(
    brokers: &str,
    topic: &str,
    partition: i32,
    node: &str,
    seqs: std::ops::RangeInclusive<u64>,
) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("batch.num.messages", "1")
        .create()
        .unwrap();
    let salt = 90 + u64::try_from(partition).unwrap();
    for seq in seqs {
        let value = event_line(&new_id(seq, salt), node, seq);
        producer
            .send(
                BaseRecord::<str, str>::to(topic)
                    .partition(partition)
                    .key(node)
                    .payload(&value),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// Every file under `folder`: its bytes and modification time.
fn files(folder: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(f) = stack.pop() {
        for entry in std::fs::read_dir(&f).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                out.insert(path.clone(), (std::fs::read(&path).unwrap(), modified));
            }
        }
    }
    out
}

/// The owner epoch in a partition folder's `owner` file.
fn epoch(partition: &Path) -> u64 {
    let text = std::fs::read(partition.join("owner")).unwrap();
    serde_json::from_slice::<serde_json::Value>(&text).unwrap()["epoch"]
        .as_u64()
        .unwrap()
}

/// Removes the last record of the store's newest segment file, whole (a cut at a line
/// end: no torn tail for recovery to cut, so the store's files stay as left here).
fn remove_last_record(store: &Path) {
    let segment = files(store)
        .into_keys()
        .filter(|p| {
            p.parent() != Some(store)
                && p.extension().is_some_and(|e| e == "jsonl")
                && !p.file_name().unwrap().to_str().unwrap().starts_with('.')
        })
        .max()
        .unwrap();
    let bytes = std::fs::read(&segment).unwrap();
    let body = &bytes[..bytes.len() - 1];
    let cut = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    std::fs::write(&segment, &bytes[..cut]).unwrap();
}

fn wait_until(what: &str, server: &ServerProc, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_refused_partition_store_is_held_not_reopened() {
    let brokers = brokers();
    let topic = unique("held");
    create_topic(&brokers, &topic, 2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    std::fs::write(
        d.join("s.toml"),
        storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root),
    )
    .unwrap();
    produce_to(&brokers, &topic, 0, "node-a", 1..=3);
    produce_to(&brokers, &topic, 1, "node-b", 1..=3);
    serve_until_stored(d, "s.toml", &root, 6);

    let held_dir = root.join(&topic).join("0");
    let held_store = held_dir.join("store");
    let other_store = root.join(&topic).join("1").join("store");
    remove_last_record(&held_store);
    let epoch_before = epoch(&held_dir);
    produce_to(&brokers, &topic, 0, "node-a", 4..=6);
    produce_to(&brokers, &topic, 1, "node-b", 4..=6);

    let server = start(d, &["--config", "s.toml"]);
    wait_until(
        "the other partition's events and the refused store's open",
        &server,
        || stored_ids(&other_store).len() == 6 && epoch(&held_dir) > epoch_before,
    );
    // What an open changes on disk (the owner epoch, a recovery's repairs) changes no
    // more: the store is not opened again.
    let after_open = files(&held_dir);
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        epoch(&held_dir),
        epoch_before + 1,
        "the store was opened again (a new owner epoch each time): {}",
        server.stderr()
    );
    assert!(
        files(&held_dir) == after_open,
        "the held partition's folder changed after its open"
    );

    let (status, body) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    let held = ready["held"].as_array().expect(&body);
    assert_eq!(held.len(), 1, "{ready}");
    assert_eq!(held[0]["topic"], topic.as_str(), "{ready}");
    assert_eq!(held[0]["partition"], 0, "{ready}");
    assert_eq!(held[0]["reason"], "store_held", "{ready}");
    assert!(held[0]["source"].is_string(), "{ready}");
    let message = held[0]["message"].as_str().unwrap();
    assert!(
        !message.contains(&root.display().to_string()),
        "/readyz needs no key: no path in {message}"
    );
    assert_eq!(metric(&server, "auditrail_kafka_source_partitions_held"), 1);
    assert_eq!(metric(&server, "auditrail_kafka_source_partitions_waiting"), 0);
    assert_eq!(metric(&server, "auditrail_kafka_source_partitions_assigned"), 2);
    assert_eq!(
        stored_ids(&held_store).len(),
        2,
        "nothing stored into the held store"
    );

    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(HELD)).collect();
    assert_eq!(lines.len(), 1, "said once: {log}");
    assert!(lines[0].contains("ERROR"), "{}", lines[0]);
    assert!(
        lines[0].contains(&held_store.display().to_string()),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(&format!("{topic}/0")), "{}", lines[0]);
    assert!(!log.contains("; retrying"), "{log}");

    // Nothing lost: accepted as it is (its log kept aside as evidence, then the
    // command the line advises), the store is opened at the next start and reads its
    // partition from the store's offset on, the removed record's included.
    std::fs::rename(
        held_store.join("checkpoints.jsonl"),
        d.join("evidence-checkpoints.jsonl"),
    )
    .unwrap();
    let (code, out) = run_in(
        d,
        &[
            "store",
            "accept",
            "--data-dir",
            held_dir.to_str().unwrap(),
            "--signing-key",
            key.to_str().unwrap(),
            "--store",
            held_store.to_str().unwrap(),
            "--reason",
            "the last record was removed by hand; checked",
        ],
    );
    assert_eq!(code, 0, "{out}");
    serve_until_stored(d, "s.toml", &root, 12);
    assert!(id_counts(&root).values().all(|n| *n == 1));
    assert_eq!(stored_ids(&held_store).len(), 6);
}
