//! `[metrics] log_interval_s`: a running node logs every target's counters on that
//! period, as structured fields (one per counter), not as a debug dump.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn a_running_node_logs_its_counters_as_fields() {
    let node = common::Node::with_file_target("\n[metrics]\nlog_interval_s = 1\n");
    let mut send = common::StreamingSend::start(&node, &[]);
    send.write_logins(3);
    // The pipe stays open: only the periodic log can report the three deliveries.
    let delivered =
        || common::logged_field(&send.log, "target counters", "delivered").as_deref() == Some("3");
    assert!(
        wait_until(Duration::from_secs(30), delivered),
        "{}",
        send.stderr()
    );
    let text = send.stderr();
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("target counters"))
        .unwrap();
    for field in [
        "target_name=file-0",
        "target_type=file",
        "accepted=3",
        "dead_lettered=0",
        "dropped_queue_full=0",
        "lost=0",
        "queue_depth=0",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert!(
        !text.contains("TargetStats {"),
        "a debug dump was logged: {text}"
    );

    let out = send.stop("-TERM");
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
}
