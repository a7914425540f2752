//! Kafka partition stores take their part of the open-file budget: under `ulimit -n`
//! 512 a source-only server opens one partition store at a time (a quarter of the 448
//! left after the reserve, in stores of 72 descriptors), so of two partitions assigned
//! one is open and the other waits, listed in `GET /v1/checkpoints` with `waiting`
//! saying it waits for file descriptors. Before, partition stores were outside the
//! budget, each keeping a quarter of the limit: enough of them assigned failed their
//! writes with `Too many open files`.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{
    listed_partition_stores_until, partitioned_source, produce_to_both_partitions, OneSource,
};
use serve_support::start_with_open_file_limit;

#[test]
fn of_two_partitions_one_store_opens_and_the_other_waits_for_descriptors() {
    let OneSource {
        dir,
        brokers,
        topic,
        ..
    } = partitioned_source("fdwait", 2);
    let d = dir.path();
    produce_to_both_partitions(&brokers, &topic, 1..=2);

    let server = start_with_open_file_limit(d, 512, &["--config", "s.toml"]);
    let list =
        listed_partition_stores_until(&server, "one open, one waiting for descriptors", |l| {
            l.len() == 2
                && l.iter().any(|s| s["records"] == 2)
                && l.iter().any(|s| {
                    s["waiting"]
                        .as_str()
                        .is_some_and(|w| w.contains("waits for file descriptors"))
                })
        });
    let waiting = list.iter().find(|s| s["waiting"].is_string()).unwrap();
    let said = waiting["waiting"].as_str().unwrap();
    assert!(
        said.contains("the 1 partition store(s) the open-file budget allows"),
        "{said}"
    );
    assert!(waiting["records"].is_null(), "{waiting}");
    let log = server.stderr();
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("partition_stores_open_at_most=1"), "{log}");
}
