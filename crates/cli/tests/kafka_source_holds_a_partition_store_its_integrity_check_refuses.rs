//! A partition store whose integrity check refuses it (here: its last record removed
//! by hand, below the last signed checkpoint) is held: the partition stays paused,
//! nothing of it is stored or committed, the store is opened once and not again (no
//! recovery, no new owner epoch, not a byte of the partition's folder changed), the
//! log says so once at ERROR, `/readyz` names it under `held` (the server stays ready:
//! the other partition stores its events), `/v1/checkpoints` lists it held with its
//! folder, and `auditrail_kafka_source_partitions_held` is 1. Nothing is lost: once a person accepted the store's state, the next start
//! reads the partition's records from the store's offset, the removed one included.
//! Before, the open was retried with backoff for ever, each retry running the store's
//! recovery and raising its owner epoch, said only by a WARN every 10th failure.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::time::Duration;

use kafka_support::{
    files_in, id_counts, metric, owner_epoch, partitioned_source, produce_to_both_partitions,
    remove_last_record, run_in, serve_until_stored, OneSource,
};
use serve_support::{request, start, stored_ids, wait_until};

/// The text of the line that says a partition store is held.
const HELD: &str = "partition store held";

#[test]
fn a_refused_partition_store_is_held_not_reopened() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        key,
        ..
    } = partitioned_source("held", 2);
    let d = dir.path();
    produce_to_both_partitions(&brokers, &topic, 1..=3);
    serve_until_stored(d, "s.toml", &root, 6);

    let held_dir = root.join(&topic).join("0");
    let held_store = held_dir.join("store");
    let other_store = root.join(&topic).join("1").join("store");
    remove_last_record(&held_store);
    let epoch_before = owner_epoch(&held_dir);
    produce_to_both_partitions(&brokers, &topic, 4..=6);

    let server = start(d, &["--config", "s.toml"]);
    wait_until(
        "the other partition's events and the refused store's open",
        &[&server],
        || stored_ids(&other_store).len() == 6 && owner_epoch(&held_dir) > epoch_before,
    );
    // What an open changes on disk (the owner epoch, a recovery's repairs) changes no
    // more: the store is not opened again.
    let after_open = files_in(&held_dir);
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        owner_epoch(&held_dir),
        epoch_before + 1,
        "the store was opened again (a new owner epoch each time): {}",
        server.stderr()
    );
    assert!(
        files_in(&held_dir) == after_open,
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
    // `/v1/checkpoints` lists it held (its folder, what was found; not open: no chain
    // head nor checkpoint), beside the other partition's open store.
    let (status, body) = request(&server.addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let checkpoints: serde_json::Value = serde_json::from_str(&body).unwrap();
    let parts = checkpoints["partitionStores"].as_array().expect(&body);
    assert_eq!(parts.len(), 2, "{checkpoints}");
    assert_eq!(parts[0]["partition"], 0, "{checkpoints}");
    assert_eq!(
        parts[0]["path"],
        held_store.display().to_string(),
        "{checkpoints}"
    );
    assert!(parts[0]["held"].is_string(), "{checkpoints}");
    assert!(parts[0]["records"].is_null(), "{checkpoints}");
    assert!(parts[0]["lastCheckpoint"].is_null(), "{checkpoints}");
    assert_eq!(parts[1]["partition"], 1, "{checkpoints}");
    assert_eq!(parts[1]["records"], 6, "{checkpoints}");
    assert!(parts[1].get("held").is_none(), "{checkpoints}");
    assert_eq!(metric(&server, "auditrail_kafka_source_partitions_held"), 1);
    assert_eq!(
        metric(&server, "auditrail_kafka_source_partitions_waiting"),
        0
    );
    assert_eq!(
        metric(&server, "auditrail_kafka_source_partitions_assigned"),
        2
    );
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
