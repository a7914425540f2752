//! `auditrail store prune` on a Kafka source's partition stores
//! (`<store_root>/<topic>/<partition>/store`, whose high-water mark is kept beside it, in
//! the partition folder: docs/scale-out.md). Before, `--config` said "no store under
//! <data dir>" (it took the `store` destinations only), and `--store <partition store>`
//! refused for "no high-water mark for this store in <data dir>/high-water.jsonl",
//! advising a `store accept` that wrote the mark into the data dir's file. Now both
//! prune the partition store, checked against and recording its own mark.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use kafka_support::{
    one_source, partition_stores, produce_dated, run_in, serve_until_stored, verify_in,
};

/// `days` days before now, at a whole hour (RFC 3339).
fn days_ago(days: i64) -> String {
    let now = auditrail::Timestamp::now().unix_millis();
    let at = now - days * 86_400_000;
    auditrail::Timestamp::from_unix_millis(at - at % 3_600_000 + 60_000)
        .unwrap()
        .to_string()
}

/// The checkpoint the partition folder's high-water mark records.
fn marked_checkpoint(partition: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(partition.join("high-water.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    line["checkpoint"].as_u64().unwrap()
}

#[test]
fn prune_by_config_and_by_store_deletes_old_partitions_of_a_partition_store() {
    let source = one_source("prunepart", "");
    let d = source.dir.path();
    produce_dated(&source.brokers, &source.topic, 1..=3, 61, &days_ago(20));
    produce_dated(&source.brokers, &source.topic, 4..=6, 61, &days_ago(10));
    produce_dated(&source.brokers, &source.topic, 7..=8, 61, &days_ago(0));
    serve_until_stored(d, "s.toml", &source.root, 8);
    let store = partition_stores(&source.root).pop().unwrap();
    let partition = store.parent().unwrap().to_path_buf();
    let before = marked_checkpoint(&partition);

    // By the store, with the data dir and the configured key.
    let key = d.join("group-signing.key");
    let (code, out) = run_in(
        d,
        &[
            "store",
            "prune",
            "--data-dir",
            "s-data",
            "--signing-key",
            key.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--before",
            "15d",
            "--reason",
            "older than 15 days",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deleted 1 partition (3 records"), "{out}");
    let after_store = marked_checkpoint(&partition);
    assert!(after_store > before, "the partition's mark moved on: {out}");

    // By the config.
    let (code, out) = run_in(
        d,
        &["store", "prune", "--config", "s.toml", "--before", "5d"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deleted 1 partition (3 records"), "{out}");
    assert!(marked_checkpoint(&partition) > after_store, "{out}");

    // Nothing went to the data dir's marks, and every line verifies.
    let data_marks = d.join("s-data/high-water.jsonl");
    let named = std::fs::read_to_string(&data_marks).unwrap_or_default();
    assert!(!named.contains(&source.topic), "{named}");
    let (code, report) = verify_in(d, &["--config", "s.toml"]);
    assert_eq!(code, 0, "{report:#}");
}
