//! A long-running node delivering to an event server that is up, when the power is cut
//! on the node: after the boot (the file system mounted again, its journal replayed),
//! the restarted node delivers every event it had acknowledged to its emitter
//! (`emit_acked`: spooled and fsynced) exactly once, and reports no spool segment lost.
//! The cut comes while the spool appends, sends, moves its `ack` position, records
//! segment lengths, starts new segments (`newest`) and deletes delivered ones: a file
//! or a name not made durable before the spool relied on it either loses acknowledged
//! events or makes a delivered, deleted segment look lost at the next start.
//!
//! Real parts: `es-node` (a dispatcher with the eventserver target, printing each
//! acknowledged event), cut again and again, with its run folder on an ext4 file system on a loop device in
//! a private mount namespace (`data=writeback`: a file's data reaches the disk only
//! when that file is synced), ext4's shutdown ioctl without a log flush as the power
//! cut (from that instant nothing reaches the disk), and the real server over loopback
//! HTTP, on the machine's own disk (only the node loses power). Needs root (a loop
//! device); it says so and checks nothing otherwise.

use crate::es_support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use auditrail_testkit::ext4::Disk;
use es_support::{assert_exactly_once, es_node, wait_until, NodeProcess, ServerProcess};

/// Power cuts one after the other, each at the next boot's run (the node resumes
/// its spool, emits and delivers), so that the cuts find the spool at different points.
const CUTS: u64 = 3;

/// The cuts come while the node still has a backlog to deliver: it emits faster than
/// its slow link (one request of 20 events at a time) delivers.
#[test]
fn acknowledged_events_arrive_exactly_once_after_power_cuts_with_a_backlog() {
    power_cuts_while_delivering(&["--chunk", "100"]);
}

/// The cuts come while the node keeps up: it emits a little at a time, the spool
/// delivers each bit at once, moves its `ack` position past its segments and deletes
/// them, while later appends' fsyncs commit the file system's journal.
#[test]
fn acknowledged_events_arrive_exactly_once_after_power_cuts_while_the_node_keeps_up() {
    power_cuts_while_delivering(&["--chunk", "10", "--pause-ms", "5"]);
}

fn node_config(path: &Path, run_dir: &Path, url: &str) {
    std::fs::write(
        path,
        format!(
            r#"node = "node-cut"
run_dir = "{}"
shutdown_timeout_s = 120

[[targets]]
type = "eventserver"
name = "central"
url = "{url}"
backoff_initial_ms = 20
backoff_max_ms = 300
request_timeout_ms = 3000
shutdown_drain_ms = 100000
max_in_flight = 1
send_batch_max_events = 20
spool_segment_bytes = 8192
"#,
            run_dir.display()
        ),
    )
    .unwrap();
}

/// `CUTS` power cuts of a node running `es-node ARGS`, each once the node acknowledged
/// 1000 more events and the server stored 300 more; then a last run that drains the
/// spool, and the checks.
fn power_cuts_while_delivering(args: &[&str]) {
    let Some((disk, mut ns)) = Disk::new(128 << 20) else {
        return;
    };
    let root = disk.dir.path();
    let server = ServerProcess::start(&root.join("server"), None);
    // The config lives outside the cut file system: what is tested is the run folder.
    let config = root.join("node.toml");
    node_config(&config, &disk.mnt.join("run"), &server.url);
    let log = root.join("node.log");
    let node_log = || std::fs::read_to_string(&log).unwrap_or_default();

    let mut acked: HashSet<String> = HashSet::new();
    for cut in 0..CUTS {
        let start = (cut * 1_000_000).to_string();
        let mut run_args = vec!["--count", "200000", "--start", &start];
        run_args.extend_from_slice(args);
        let mut node = NodeProcess::spawn(ns.command(&es_node()), &config, &run_args, &log);
        let stored_before = server.stored().len();
        let got_there = wait_until(Duration::from_secs(30), || {
            node.acked().len() >= 1000 && server.stored().len() >= stored_before + 300
        });
        assert!(
            got_there,
            "run {cut}: the node did not get that far: {} acknowledged, {} stored; its log:\n{}",
            node.acked().len(),
            server.stored().len(),
            node_log()
        );
        // The node stops at the cut instant, as at a real one: it acknowledges
        // nothing after it (see `Ext4::power_cut_freezing`).
        ns.power_cut_freezing(&[node.pid()]);
        node.kill9();
        acked.extend(node.acked());
        // The boot after the cut.
        ns = disk.boot(ns);
    }

    // The last run emits a few more and drains the spool before it exits: its shutdown
    // drain (`shutdown_drain_ms`) must outlast the backlog the cuts left, or the rest
    // stays spooled (not lost) and the check below counts it missing. 100 s, against
    // 6 s taken on this machine: CI 97's slower deliveries (unoptimized signatures in
    // a debug build) did not drain within the 25 s it had.
    let mut last = NodeProcess::spawn(
        ns.command(&es_node()),
        &config,
        &["--count", "50", "--start", "900000000"],
        &log,
    );
    assert!(
        last.wait(Duration::from_secs(150)),
        "the node did not finish after the last boot; its log:\n{}",
        node_log()
    );
    assert_eq!(
        last.finished.lock().unwrap().as_deref(),
        Some("clean=true"),
        "the last run did not deliver all it held; its log:\n{}",
        node_log()
    );
    let mut expected = acked.clone();
    expected.extend(last.acked());
    assert_eq!(expected.len(), acked.len() + 50);
    assert_exactly_once(&server, &expected);
    let lost = ns.outside(&disk.mnt.join("run/spool/central/lost.jsonl"));
    assert!(
        !lost.exists(),
        "the node reports spool segments lost after the power cuts: {}\nits log:\n{}",
        std::fs::read_to_string(&lost).unwrap_or_default(),
        node_log()
    );
}
