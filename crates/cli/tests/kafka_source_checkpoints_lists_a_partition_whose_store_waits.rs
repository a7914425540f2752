//! `GET /v1/checkpoints` lists a partition assigned to the server whose store is not
//! open yet: its store's lock is still held (by its previous owner, here by the test),
//! so it is listed with `waiting` saying so and how many opens were tried, its chain
//! fields `null`, until the lock is released and the store opens; then it is listed
//! open with the records it stored. Before, such a partition was not listed at all: a
//! monitor saw no sign of a partition assigned and paused (a store opening for minutes,
//! or a previous owner that never let go).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{listed_partition_stores_until, one_source, produce_to_partition, OneSource};
use serve_support::start;

#[test]
fn a_partition_whose_store_is_locked_is_listed_waiting_then_open() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        ..
    } = one_source("ckwait", "");
    let d = dir.path();
    produce_to_partition(&brokers, &topic, 0, "node-a", 1..=3);
    // The store's single-writer lock (a `flock` on its folder), held as a previous
    // owner still closing it would.
    let store = root.join(&topic).join("0").join("store");
    std::fs::create_dir_all(&store).unwrap();
    let lock = std::fs::File::open(&store).unwrap();
    lock.lock().unwrap();

    let server = start(d, &["--config", "s.toml"]);
    let list = listed_partition_stores_until(&server, "the partition listed waiting, tried", |l| {
        l.len() == 1
            && l[0]["waiting"]
                .as_str()
                .is_some_and(|w| w.contains("locked by another process"))
    });
    let s = &list[0];
    assert_eq!(s["topic"], topic.as_str(), "{s}");
    assert_eq!(s["partition"], 0, "{s}");
    assert_eq!(s["path"], store.display().to_string(), "{s}");
    assert!(s["records"].is_null() && s["storeId"].is_null(), "{s}");
    assert!(s.get("held").is_none(), "{s}");

    drop(lock);
    let list = listed_partition_stores_until(&server, "the store open with its 3 events", |l| {
        l.len() == 1 && l[0]["records"] == 3
    });
    assert!(list[0].get("waiting").is_none(), "{}", list[0]);
    assert!(list[0]["storeId"].is_string(), "{}", list[0]);
}
