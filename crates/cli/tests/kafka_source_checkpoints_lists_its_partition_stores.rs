//! `GET /v1/checkpoints` of a storing server lists the partition stores open on it
//! (`partitionStores`), besides its store destinations: per partition its source,
//! topic, partition, folder, store id, records, chain head and last signed checkpoint,
//! which agree with what `auditrail verify` finds in the stores. A partition revoked
//! (a second server of the group takes it over) leaves the list of the first and
//! enters the second's. Before, the answer listed the store destinations only: a
//! monitor could not see where a partition store stood.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{
    brokers, create_topic, listed_partition_stores_until as wait_for, produce_to_partition,
    shared_key, unique, verify_in, write_group,
};
use serve_support::start;

#[test]
fn checkpoints_list_each_open_partition_store_as_verify_finds_it() {
    let brokers = brokers();
    let topic = unique("ckparts");
    create_topic(&brokers, &topic, 2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = shared_key(d);
    let root = d.join("partitions");
    // A second server of the group (its own data dir, the same shared store root).
    let servers = [("s.toml", "s-data"), ("s2.toml", "s2-data")];
    write_group(d, &servers, &key, &brokers, &topic, &root);
    produce_to_partition(&brokers, &topic, 0, "node-a", 1..=7);
    produce_to_partition(&brokers, &topic, 1, "node-b", 1..=4);

    let server = start(d, &["--config", "s.toml"]);
    // Every batch is sealed: once stored, each store's last checkpoint vouches for
    // all its records.
    let list = wait_for(&server, "both partition stores, stored and signed", |l| {
        l.len() == 2
            && l.iter()
                .zip([7, 4])
                .all(|(s, n)| s["records"] == n && s["lastCheckpoint"]["seq"] == n)
    });
    for (s, partition) in list.iter().zip([0, 1]) {
        assert_eq!(s["source"], "kafka", "{s}");
        assert_eq!(s["topic"], topic.as_str(), "{s}");
        assert_eq!(s["partition"], partition, "{s}");
        let path = root.join(&topic).join(partition.to_string()).join("store");
        assert_eq!(s["path"], path.display().to_string(), "{s}");
        assert_eq!(s["headHash"].as_str().unwrap().len(), 64, "{s}");
        assert!(s.get("held").is_none(), "{s}");
        let c = &s["lastCheckpoint"];
        assert_eq!(c["key"], public.as_str(), "{s}");
        assert_eq!(c["deletion"], false, "{s}");
        assert!(c["time"].as_str().unwrap().ends_with('Z'), "{s}");
    }

    // What verify finds in the stores (read while the server holds them).
    let (code, report) = verify_in(
        d,
        &[root.to_str().unwrap(), "--public-key", public.as_str()],
    );
    assert_eq!(code, 0, "{report:#}");
    let verified = report["stores"].as_array().unwrap();
    assert_eq!(verified.len(), 2, "{report:#}");
    for s in &list {
        let v = verified
            .iter()
            .find(|v| v["path"] == s["path"])
            .unwrap_or_else(|| panic!("{s} is not verified: {report:#}"));
        assert_eq!(v["storeId"], s["storeId"], "{s}\n{v:#}");
        assert!(
            s["storeId"].as_str().is_some_and(|id| !id.is_empty()),
            "{s}"
        );
        assert_eq!(v["lastSeq"], s["records"], "{s}\n{v:#}");
        assert_eq!(
            v["lastCheckpointSeq"], s["lastCheckpoint"]["seq"],
            "{s}\n{v:#}"
        );
        // `index` is the line's `checkpoint` number: its place in the log, from 1.
        assert_eq!(v["checkpoints"], s["lastCheckpoint"]["index"], "{s}\n{v:#}");
    }

    // A second server joins: one partition is revoked from the first and opened by
    // the second; each lists the one it has open, and only it.
    let second = start(d, &["--config", "s2.toml"]);
    // Open: a partition whose store waits for the first server's lock is listed too
    // (`waiting`), until its store is open.
    let one = |l: &[serde_json::Value]| l.len() == 1 && l[0].get("waiting").is_none();
    let kept = wait_for(&server, "a partition revoked from the first server", one);
    let taken = wait_for(&second, "a partition opened by the second server", one);
    assert_ne!(
        kept[0]["partition"], taken[0]["partition"],
        "{kept:?}\n{taken:?}"
    );
    // The store taken over is the same store, its chain where the first left it.
    let before = list
        .iter()
        .find(|s| s["partition"] == taken[0]["partition"])
        .unwrap();
    assert_eq!(taken[0]["storeId"], before["storeId"], "{taken:?}");
    assert_eq!(taken[0]["records"], before["records"], "{taken:?}");
    assert_eq!(taken[0]["headHash"], before["headHash"], "{taken:?}");
    assert_eq!(second.terminate(), 0);
    assert_eq!(server.terminate(), 0);
}
