//! SIGTERM (or SIGINT) while `auditrail send --stdin` waits on an open pipe and its
//! only target cannot take the events (an event server that is down, no spool):
//! reading stops, the events already read are dead-lettered at the time limit (none is
//! lost), the summary says so, and the exit status is non-zero.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

fn settles_on(signal: &str) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-sig\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"http://127.0.0.1:{port}\"\nspool = false\nretry_initial_backoff_ms = 50\n"
        ),
    )
    .unwrap();
    let log = node.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin", "--timeout", "1"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    for i in 0..7 {
        writeln!(
            input,
            "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}"
        )
        .unwrap();
    }
    input.flush().unwrap();
    // Once the events were read and tried (the server is down: retries are logged),
    // stop the process.
    let retried = || std::fs::read_to_string(&log).is_ok_and(|t| t.contains("retryable error"));
    assert!(
        wait_until(Duration::from_secs(30), retried),
        "no retry logged"
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    drop(input);
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
