//! `auditrail store accept --data-dir <data dir> --signing-key KEY --store <partition
//! store>` of a partition store the server refuses (rolled back to an older copy of
//! itself) records the acceptance where the server reads it: the store's high-water
//! mark and acceptances in its partition folder. Before, it wrote them into the data
//! dir's files, said "accepted ... recorded as checkpoint #3" with exit 0, and the
//! server went on refusing the partition at its next start (nothing more stored).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use kafka_support::{produce_events, rolled_back_partition, run_in, serve_until_stored};

#[test]
fn the_server_stores_into_the_accepted_partition_store_again() {
    let (source, store) = rolled_back_partition("acceptpart", 65);
    let d = source.dir.path();
    let key = d.join("group-signing.key");
    let (code, out) = run_in(
        d,
        &[
            "store",
            "accept",
            "--data-dir",
            "s-data",
            "--signing-key",
            key.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--reason",
            "restored from the backup, checked",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let partition = store.parent().unwrap();
    let marks = std::fs::read_to_string(partition.join("high-water.jsonl")).unwrap();
    assert!(marks.contains("restored from the backup"), "{marks}");
    assert!(
        !d.join("s-data/acceptances.jsonl").exists(),
        "nothing accepted in the data dir's history"
    );

    // The partition is taken again: the events after the copy are read again, and a
    // new one is stored.
    produce_events(&source.brokers, &source.topic, 7, 7, 65);
    serve_until_stored(d, "s.toml", &source.root, 7);
}
