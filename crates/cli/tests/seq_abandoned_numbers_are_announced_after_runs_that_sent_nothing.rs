//! The numbers a crashed run left unused are announced with the first event of a later
//! run, however many runs in between stopped cleanly or crashed again before sending
//! anything: the sequence file keeps the announcement until an event takes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

const BLOCK: u64 = 1 << 20;

/// A `send --stdin` that reserves its numbers and is killed (SIGKILL) before it reads
/// any event.
fn crash_before_the_first_event(node: &common::Node) {
    let seq_file = node.path().join("run/seq/cli-test-node");
    let before = std::fs::read_to_string(&seq_file).unwrap();
    let mut idle = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || {
            std::fs::read_to_string(&seq_file)
                .is_ok_and(|t| t != before && t.starts_with("reserved"))
        }),
        "the run never wrote its reservation"
    );
    idle.kill().unwrap(); // SIGKILL: no clean shutdown
    idle.wait().unwrap();
}

/// A `send --stdin` that reads no event and stops cleanly.
fn stop_without_an_event(node: &common::Node) {
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], "");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn abandoned_numbers_are_announced_after_runs_that_crashed_or_stopped_before_their_first_event() {
    let node = common::Node::with_file_target("");
    let one = [
        "send",
        "--config",
        "node.toml",
        "--topic",
        "generic",
        "--msg-type",
        "login",
    ];
    assert!(node.run(&one, "").status.success()); // seq 1, then `next 2`

    crash_before_the_first_event(&node); // reserved 2..=BLOCK+1
    stop_without_an_event(&node); // a clean stop must keep the announcement
    crash_before_the_first_event(&node); // a new reservation must keep it too
    stop_without_an_event(&node);

    assert!(node.run(&one, "").status.success());
    let lines = node.audit_lines();
    let last = lines.last().unwrap();
    assert_eq!(last["seq"], 2 * BLOCK + 2, "{last}");
    assert_eq!(
        last["abandonedSeqs"],
        serde_json::json!({"first": 2, "last": 2 * BLOCK + 1}),
        "{last}"
    );

    // Announced once: the next run announces nothing.
    assert!(node.run(&one, "").status.success());
    let lines = node.audit_lines();
    let last = lines.last().unwrap();
    assert_eq!(last["seq"], 2 * BLOCK + 3, "{last}");
    assert!(last.get("abandonedSeqs").is_none(), "{last}");
}
