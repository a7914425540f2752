//! While the server is down, a node keeps emitting: its events wait on disk in the
//! spool (which grows), the node's memory stays bounded (well below what the spool
//! holds), and everything arrives once the server is back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::es_support;

use std::collections::HashSet;
use std::time::Duration;

use es_support::{assert_exactly_once, dir_bytes, rss_kib, wait_until, NodeDir, ServerProcess};

#[test]
fn events_wait_on_disk_with_bounded_memory_and_all_arrive_later() {
    let root = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(&root.path().join("server"), None);
    let url = server.url.clone();
    server.kill9(); // down from the start; the node only knows its address
    let node = NodeDir::new(
        root.path(),
        "node-a",
        &url,
        "queue_capacity = 500\nspool_segment_bytes = 4194304",
    );
    // ~4 KiB per event, 15 000 events: about 60 MiB that can only go to disk.
    let mut p = node.spawn(&[
        "--count",
        "15000",
        "--chunk",
        "500",
        "--payload-bytes",
        "4000",
    ]);
    // RSS samples: the highest while the first 3000 events were emitted, and the
    // highest after. Memory is bounded if it stops growing while the spool keeps growing.
    let (mut early_rss, mut late_rss, mut early_spool) = (0u64, 0u64, 0u64);
    let emitted = wait_until(Duration::from_secs(90), || {
        let acked = p.acked().len();
        if let Some(r) = rss_kib(p.pid()) {
            if acked <= 3000 {
                early_rss = early_rss.max(r);
                early_spool = dir_bytes(&node.spool_dir());
            } else {
                late_rss = late_rss.max(r);
            }
        }
        acked == 15000
    });
    assert!(
        emitted,
        "only {} acknowledged while the server was down",
        p.acked().len()
    );
    let spooled = dir_bytes(&node.spool_dir());
    assert!(
        spooled > 50 << 20,
        "the spool should hold the events: {spooled} bytes"
    );
    eprintln!("RSS {early_rss} KiB with {early_spool} B spooled, then at most {late_rss} KiB with {spooled} B");
    assert!(
        spooled - early_spool > 35 << 20,
        "the spool must grow a lot after the early sample"
    );
    assert!(
        late_rss < early_rss + 16 * 1024 && late_rss < 64 * 1024,
        "node memory grew with the spool: {early_rss} KiB -> {late_rss} KiB"
    );
    server.restart();
    assert!(
        p.wait(Duration::from_secs(90)),
        "the node did not drain its spool"
    );
    let expected: HashSet<String> = p.acked().into_iter().collect();
    assert_exactly_once(&server, &expected);
    assert!(
        dir_bytes(&node.spool_dir()) < spooled / 4,
        "delivered segments are deleted"
    );
}
