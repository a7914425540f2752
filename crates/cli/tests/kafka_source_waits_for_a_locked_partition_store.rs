//! A partition whose store is still locked when the group assigns it (its previous
//! owner is still closing it, or is stalled) is not written beside the lock holder:
//! the partition waits paused (`auditrail_kafka_source_partitions_waiting`) and nothing
//! more is stored; once the lock is free the store is opened, reading resumes from
//! what it holds, and every event is stored once.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use std::collections::HashSet;
use std::time::Duration;

use kafka_support::{
    id_counts, ingest_config, metric, one_source, partition_stores, verify, OneSource,
};
use serve_support::{event_line, new_id, post_events, start, wait_until, ServerProc};

fn send(ingest: &ServerProc, first: u64, acked: &mut HashSet<String>) {
    let ids: Vec<String> = (first..first + 20).map(|s| new_id(s, 77)).collect();
    let body: String = ids
        .iter()
        .zip(first..)
        .map(|(id, seq)| event_line(id, "node-1", seq) + "\n")
        .collect();
    let (status, answer) = post_events(&ingest.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    acked.extend(ids);
}

#[test]
fn a_locked_partition_store_is_waited_for_then_resumed() {
    let OneSource {
        dir,
        brokers,
        topic,
        root,
        public,
        ..
    } = one_source("locked", "");
    let d = dir.path();
    std::fs::write(d.join("i.toml"), ingest_config("i-data", &brokers, &topic)).unwrap();
    let ingest = start(d, &["--config", "i.toml"]);
    let mut acked = HashSet::new();
    send(&ingest, 1, &mut acked);
    let server = start(d, &["--config", "s.toml"]);
    wait_until("the first events stored", &[&server], || {
        id_counts(&root).len() == 20
    });
    assert_eq!(server.terminate(), 0);

    // Another process (this test) holds the store's lock: `flock` on its folder, as a
    // server does.
    let store = partition_stores(&root).pop().unwrap();
    let holder = std::fs::File::open(&store).unwrap();
    rustix::fs::flock(
        &holder,
        rustix::fs::FlockOperation::NonBlockingLockExclusive,
    )
    .unwrap();
    send(&ingest, 21, &mut acked);
    let server = start(d, &["--config", "s.toml"]);
    wait_until("the partition to wait for its store", &[&server], || {
        metric(&server, "auditrail_kafka_source_partitions_assigned") == 1
            && metric(&server, "auditrail_kafka_source_partitions_waiting") == 1
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        id_counts(&root).len(),
        20,
        "nothing is written beside the lock holder"
    );

    drop(holder);
    wait_until("every event stored", &[&server], || {
        id_counts(&root).len() == 40
    });
    wait_until("no partition waiting", &[&server], || {
        metric(&server, "auditrail_kafka_source_partitions_waiting") == 0
    });
    send(&ingest, 41, &mut acked);
    wait_until("the events sent after the wait", &[&server], || {
        id_counts(&root).len() == 60
    });
    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    assert_eq!(ingest.terminate(), 0);
    assert!(log.contains("locked by another process"), "{log}");

    let stored = id_counts(&root);
    assert!(stored.values().all(|n| *n == 1), "{stored:?}");
    assert_eq!(stored.keys().cloned().collect::<HashSet<_>>(), acked);
    let (code, report) = verify(&root, &public);
    assert_eq!(code, 0, "{report:#}");
}
