//! While the server is down, a node keeps emitting: its events wait on disk in the
//! spool (which grows), the node's memory stays bounded (well below what the spool
//! holds), and everything arrives once the server is back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod es_support;

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
    // ~2 KiB per event, 20 000 events: about 40 MiB that can only go to disk.
    let mut p = node.spawn(&[
        "--count",
        "20000",
        "--chunk",
        "500",
        "--payload-bytes",
        "2000",
    ]);
    let mut max_rss = 0;
    let emitted = wait_until(Duration::from_secs(90), || {
        if let Some(r) = rss_kib(p.pid()) {
            max_rss = max_rss.max(r);
        }
        p.acked().len() == 20000
    });
    assert!(
        emitted,
        "only {} acknowledged while the server was down",
        p.acked().len()
    );
    let spooled = dir_bytes(&node.spool_dir());
    assert!(
        spooled > 30 << 20,
        "the spool should hold the events: {spooled} bytes"
    );
    // Bounded: the node holds far less in memory than what waits on disk.
    let max_rss_bytes = max_rss * 1024;
    eprintln!("node max RSS {max_rss} KiB, spool {spooled} bytes");
    assert!(
        max_rss_bytes < 48 << 20 && max_rss_bytes < spooled / 2,
        "node RSS {max_rss} KiB with {spooled} bytes spooled"
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
