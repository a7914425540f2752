//! `[metrics] log_interval_s`: a running node logs every target's counters on that
//! period, as structured fields (one per counter), not as a debug dump.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn a_running_node_logs_its_counters_as_fields() {
    let node = common::Node::with_file_target("\n[metrics]\nlog_interval_s = 1\n");
    let log = node.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    for i in 0..3 {
        writeln!(
            input,
            "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}"
        )
        .unwrap();
    }
    input.flush().unwrap();
    // The pipe stays open: only the periodic log can report the three deliveries.
    let delivered =
        || common::logged_field(&log, "target counters", "delivered").as_deref() == Some("3");
    assert!(
        wait_until(Duration::from_secs(30), delivered),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let text = std::fs::read_to_string(&log).unwrap();
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

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    drop(input);
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
}
