//! The hold of a partition store its integrity check refused goes with its partition:
//! when a second server joins the group and takes one of the first one's two held
//! partitions, the first drops that hold (`<topic>/<p> revoked: its held partition
//! store is no longer held here`; `auditrail_kafka_source_partitions_held` 2 then 1),
//! and the second checks the store again and holds it (its gauge 1, its `/readyz`
//! naming that partition, its ERROR said once): each server names the partition it
//! holds, none both, none the other's.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::collections::BTreeSet;

use kafka_support::{
    brokers, create_topic, metric, produce_to_both_partitions, remove_last_record,
    serve_until_stored, shared_key, unique, write_group, TWO_SERVERS,
};
use serve_support::{request, start, wait_until, ServerProc};

/// The partitions `/readyz` names as held (all of `topic`).
fn held_partitions(server: &ServerProc, topic: &str) -> BTreeSet<i64> {
    let (status, body) = request(&server.addr, "GET", "/readyz", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    ready["held"]
        .as_array()
        .map(|held| {
            held.iter()
                .map(|h| {
                    assert_eq!(h["topic"], topic, "{ready}");
                    h["partition"].as_i64().unwrap()
                })
                .collect()
        })
        .unwrap_or_default()
}

const HELD: &str = "partition store held";
const RELEASED: &str = "its held partition store is no longer held here";

#[test]
fn a_held_partition_store_is_released_when_revoked_and_held_again_by_its_next_owner() {
    let brokers = brokers();
    let topic = unique("heldmoves");
    create_topic(&brokers, &topic, 2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    write_group(d, TWO_SERVERS, &key, &brokers, &topic, &root);
    produce_to_both_partitions(&brokers, &topic, 1..=3);
    serve_until_stored(d, "a.toml", &root, 6);
    for p in ["0", "1"] {
        remove_last_record(&root.join(&topic).join(p).join("store"));
    }

    let a = start(d, &["--config", "a.toml"]);
    wait_until("the first server to hold both partitions", &[&a], || {
        metric(&a, "auditrail_kafka_source_partitions_held") == 2
    });
    assert_eq!(held_partitions(&a, &topic), BTreeSet::from([0, 1]));

    let b = start(d, &["--config", "b.toml"]);
    wait_until(
        "one partition moved and held by the second server",
        &[&a, &b],
        || {
            metric(&a, "auditrail_kafka_source_partitions_held") == 1
                && metric(&b, "auditrail_kafka_source_partitions_held") == 1
        },
    );
    let (on_a, on_b) = (held_partitions(&a, &topic), held_partitions(&b, &topic));
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(
        on_a.union(&on_b).copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([0, 1])
    );
    let moved = *on_b.first().unwrap();

    let (log_a, log_b) = (a.stderr(), b.stderr());
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
    let released: Vec<&str> = log_a.lines().filter(|l| l.contains(RELEASED)).collect();
    assert_eq!(released.len(), 1, "{log_a}");
    assert!(
        released[0].contains(&format!("{topic}/{moved} revoked")),
        "{}",
        released[0]
    );
    assert_eq!(log_a.matches(HELD).count(), 2, "{log_a}");
    let held_b: Vec<&str> = log_b.lines().filter(|l| l.contains(HELD)).collect();
    assert_eq!(held_b.len(), 1, "{log_b}");
    assert!(
        held_b[0].contains(&format!("{topic}/{moved}")),
        "{}",
        held_b[0]
    );
}
