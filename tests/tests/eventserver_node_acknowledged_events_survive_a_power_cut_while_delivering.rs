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
//! acknowledged event) with its run folder on an ext4 file system on a loop device in
//! a private mount namespace (`data=writeback`: a file's data reaches the disk only
//! when that file is synced), ext4's shutdown ioctl without a log flush as the power
//! cut (from that instant nothing reaches the disk), and the real server over loopback
//! HTTP, on the machine's own disk (only the node loses power). Needs root (a loop
//! device); it says so and checks nothing otherwise.

use crate::es_support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use auditrail_testkit::ext4::{can_mount, Ext4};
use es_support::{assert_exactly_once, es_node, wait_until, NodeProcess, ServerProcess};

/// The cut comes while the node still has a backlog to deliver: it emits faster than
/// its slow link (one request of 20 events at a time) delivers.
#[test]
fn acknowledged_events_arrive_exactly_once_after_a_power_cut_with_a_backlog() {
    power_cut_while_delivering(false);
}

/// The cut comes right after the node caught up: the spool has just moved its `ack`
/// position past its segments and deleted them.
#[test]
fn acknowledged_events_arrive_exactly_once_after_a_power_cut_right_after_delivery() {
    power_cut_while_delivering(true);
}

fn node_config(path: &Path, run_dir: &Path, url: &str) {
    std::fs::write(
        path,
        format!(
            r#"node = "node-cut"
run_dir = "{}"
shutdown_timeout_s = 60

[[targets]]
type = "eventserver"
name = "central"
url = "{url}"
backoff_initial_ms = 20
backoff_max_ms = 300
request_timeout_ms = 3000
shutdown_drain_ms = 25000
max_in_flight = 1
send_batch_max_events = 20
spool_segment_bytes = 8192
"#,
            run_dir.display()
        ),
    )
    .unwrap();
}

fn power_cut_while_delivering(caught_up: bool) {
    if !can_mount() {
        eprintln!("not root: cannot mount a loop device; nothing checked");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let image = root.path().join("fs.img");
    let mnt = root.path().join("mnt");
    let ns = Ext4::create(&image, 128 << 20, &mnt, "data=writeback");
    let server = ServerProcess::start(&root.path().join("server"), None);
    // The config lives outside the cut file system: what is tested is the run folder.
    let config = root.path().join("node.toml");
    node_config(&config, &mnt.join("run"), &server.url);
    let log = root.path().join("node.log");

    let args: &[&str] = if caught_up {
        &["--count", "3000", "--chunk", "100"]
    } else {
        &["--count", "200000", "--chunk", "100"]
    };
    let mut first = NodeProcess::spawn(ns.command(&es_node()), &config, args, &log);
    let delivering = wait_until(Duration::from_secs(30), || {
        let acked = first.acked().len();
        let stored = server.stored().len();
        if caught_up {
            acked == 3000 && stored == acked
        } else {
            acked >= 3000 && stored >= 1000
        }
    });
    assert!(
        delivering,
        "the node did not get that far: {} acknowledged, {} stored; its log:\n{}",
        first.acked().len(),
        server.stored().len(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    ns.power_cut();
    first.kill9();
    let acked: HashSet<String> = first.acked().into_iter().collect();
    ns.unmount();

    // The boot after the cut: the node starts again on its run folder, emits a few
    // more, and drains its spool before it exits.
    let ns = Ext4::mount(&image, &mnt, "data=writeback");
    let mut second = NodeProcess::spawn(
        ns.command(&es_node()),
        &config,
        &["--count", "50", "--start", "1000000"],
        &log,
    );
    assert!(
        second.wait(Duration::from_secs(60)),
        "the node did not finish after the boot; its log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let mut expected = acked.clone();
    expected.extend(second.acked());
    assert_eq!(expected.len(), acked.len() + 50);
    assert_exactly_once(&server, &expected);
    let lost = ns.outside(&mnt.join("run/spool/central/lost.jsonl"));
    assert!(
        !lost.exists(),
        "the node reports spool segments lost after the power cut: {}\nits log:\n{}",
        std::fs::read_to_string(&lost).unwrap_or_default(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
