//! A SIGTERM (`systemctl stop`, `restart`) that comes while a storing server opens the
//! stores of the partitions the group assigned it (one after another, each read whole:
//! seconds per store of millions of records) ends those opens at the next store: the
//! stores already open are closed as a stop closes them (final checkpoints), the rest
//! are not opened, the log says how many were, and the server exits 0 as a normal
//! stop. It used to open every assigned store first and only then close them all,
//! minutes for large stores, past systemd's stop timeout (SIGKILL, no final
//! checkpoint).
//!
//! Asserted as an order, not a time: the signal is sent once the first store is open,
//! and fewer than all stores may be opened after it.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{brokers, create_topic, shared_key, storing_config, unique};
use serve_support::{start, wait_for_log};

const PARTITIONS: usize = 100;

#[test]
fn a_sigterm_while_partition_stores_open_ends_the_opens_and_stops_cleanly() {
    let brokers = brokers();
    let topic = unique("opens");
    create_topic(&brokers, &topic, PARTITIONS as i32);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, _) = shared_key(d);
    let root = d.join("partitions");
    std::fs::write(
        d.join("s.toml"),
        storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root),
    )
    .unwrap();
    let server = start(d, &["--config", "s.toml"]);
    // The group assigned the partitions and the source opens their stores.
    wait_for_log(&server, "partition store opened");
    let stderr = server.stderr_path.clone();
    let code = server.terminate();
    let log = std::fs::read_to_string(&stderr).unwrap();

    let opened = log.matches("partition store opened").count();
    assert!(
        opened < PARTITIONS,
        "every assigned store was opened after the SIGTERM ({opened}): {log}"
    );
    assert!(
        log.contains(&format!(
            "the stop came while opening partition stores: {opened} of {PARTITIONS} opened"
        )),
        "{log}"
    );
    // Each store opened was closed as a stop closes it (its final checkpoint).
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("partition store closed") && l.contains("fenced=false"))
            .count(),
        opened,
        "{log}"
    );
    assert!(
        !log.contains("final checkpoint of the partition store"),
        "{log}"
    );
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
}
