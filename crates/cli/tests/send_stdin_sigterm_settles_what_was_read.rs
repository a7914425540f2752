//! SIGTERM (or SIGINT) while `auditrail send --stdin` waits on an open pipe and its
//! only target cannot take the events (an event server that is down, no spool):
//! reading stops, the events already read are dead-lettered at the time limit (none is
//! lost), the summary says so, and the exit status is non-zero.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail_testkit::port::Port;

use std::time::Duration;

use auditrail_testkit::server::wait_until;

fn settles_on(signal: &str) {
    let port = Port::new();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-sig\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nspool = false\nretry_initial_backoff_ms = 50\n"
        ),
    )
    .unwrap();
    let mut send = common::StreamingSend::start(&node, &["--timeout", "1"]);
    send.write_logins(7);
    // Once the events were read and tried (the server is down: retries are logged),
    // stop the process.
    let retried = || send.stderr().contains("retryable error");
    assert!(
        wait_until(Duration::from_secs(30), retried),
        "no retry logged"
    );
    let log = send.log.clone();
    let out = send.stop(signal);
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], 7, "{summary}");
    assert!(stderr.contains("7 dead-lettered"), "{stderr}");
    let dead = std::fs::read_to_string(node.path().join("run/deadletter/central.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 7, "{dead}");
    assert!(stderr.contains("central.jsonl"), "{stderr}");
}

#[test]
fn sigterm() {
    settles_on("-TERM");
}

#[test]
fn sigint() {
    settles_on("-INT");
}
