//! A Kafka source whose partition stores are inside the data folder, a partition
//! assigned to the server while its data folder is moved away (`mv a-data
//! a-data.moved`; the group's other server stops): opening the partition's store made
//! its folders again (`create_dir_all` of `<data>/parts/<topic>/<p>/store`), the data
//! folder with them, at its old path: an empty store there, the server's state split
//! across two folders, and the moved folder's way back blocked. Now the open asks the
//! data folder's check first (`auditrail_core::folder_check`): nothing is made at the
//! path, the partition waits paused (nothing of it read, nothing committed), the log
//! names the folder and says to move it back; once it is back the store is opened and
//! the partition read from what it holds, every event stored once.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{
    brokers, create_topic, id_counts, metric, produce_to_both_partitions, shared_key, unique,
    verify, write_group, TWO_SERVERS,
};
use serve_support::{start, wait_until};

const ASSIGNED: &str = "auditrail_kafka_source_partitions_assigned";
const WAITING: &str = "auditrail_kafka_source_partitions_waiting";

#[test]
fn a_partition_assigned_while_the_data_folder_is_moved_away_is_opened_once_it_is_back() {
    let brokers = brokers();
    let topic = unique("movedassign");
    create_topic(&brokers, &topic, 2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = shared_key(d);
    // The stores inside `a`'s data folder; `b` (the group's other server) keeps its
    // own data folder elsewhere and shares them.
    let data = d.join("a-data");
    let root = data.join("parts");
    write_group(d, TWO_SERVERS, &key, &brokers, &topic, &root);
    produce_to_both_partitions(&brokers, &topic, 1..=3);
    let a = start(d, &["--config", "a.toml"]);
    wait_until("both partitions stored by a", &[&a], || {
        id_counts(&root).len() == 6 && metric(&a, ASSIGNED) == 2
    });
    let b = start(d, &["--config", "b.toml"]);
    wait_until("one partition moved to b and open there", &[&a, &b], || {
        metric(&a, ASSIGNED) == 1 && metric(&b, ASSIGNED) == 1 && metric(&b, WAITING) == 0
    });

    // `a`'s data folder moved away, then `b` gone (killed: no final checkpoint, its
    // lock released): the group gives `b`'s partition to `a`.
    let moved = d.join("a-data.moved");
    std::fs::rename(&data, &moved).unwrap();
    b.kill9();
    wait_until("the partition assigned to a, waiting", &[&a], || {
        metric(&a, ASSIGNED) == 2 && metric(&a, WAITING) == 1
    });
    assert!(
        !data.exists(),
        "the data folder was made again at its path: {}",
        a.stderr()
    );
    let said = "move the data folder back to its path";
    wait_until("the open refused for the data folder", &[&a], || {
        a.stderr().contains(said)
    });
    let log = a.stderr();
    let line = log.lines().find(|l| l.contains(said)).unwrap();
    assert!(
        line.contains(&data.display().to_string()) && line.contains("the partition waits, paused"),
        "{line}"
    );
    assert!(!data.exists(), "{log}");

    // Back: the store is opened, and the partition read from what it holds.
    std::fs::rename(&moved, &data).unwrap();
    wait_until("the partition's store open", &[&a], || {
        metric(&a, WAITING) == 0
    });
    produce_to_both_partitions(&brokers, &topic, 4..=5);
    wait_until("every event stored", &[&a], || id_counts(&root).len() == 10);
    assert_eq!(a.terminate(), 0);
    let stored = id_counts(&root);
    assert!(stored.values().all(|n| *n == 1), "{stored:?}");
    let (code, report) = verify(&root, &public);
    assert_eq!(code, 0, "{report:#}");
}
