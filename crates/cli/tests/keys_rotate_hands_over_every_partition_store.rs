//! `auditrail keys rotate --config` of a storing server hands signing over in every
//! partition store of its Kafka sources (found as `verify --config` finds them), and
//! re-signs each one's high-water mark in its partition folder. Before, a server with
//! only a source could not rotate ("no store under <data dir>"), and with a `store`
//! destination too only that store got the hand-over: at the next start every
//! partition store was refused as signed by the old key, and collection stopped.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use kafka_support::{
    one_source, partition_stores, produce_events, run_in, serve_until_stored, verify_in,
};

#[test]
fn after_a_rotation_the_partition_stores_are_signed_on_with_the_new_key() {
    let source = one_source("rotpart", "");
    let d = source.dir.path();
    produce_events(&source.brokers, &source.topic, 1, 3, 62);
    serve_until_stored(d, "s.toml", &source.root, 3);
    let store = partition_stores(&source.root).pop().unwrap();

    let (code, out) = run_in(d, &["keys", "rotate", "--config", "s.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("store {}: checkpoint #", store.display())),
        "the partition store is handed over: {out}"
    );

    // The server signs on in the partition store with the new key: new events are
    // stored, and everything verifies with it.
    produce_events(&source.brokers, &source.topic, 4, 5, 62);
    serve_until_stored(d, "s.toml", &source.root, 5);
    let (code, report) = verify_in(d, &["--config", "s.toml"]);
    assert_eq!(code, 0, "{report:#}");
}
