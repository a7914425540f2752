//! A SIGHUP (a log rotation tool's `postrotate` `kill -HUP`, or a terminal that hangs
//! up) while `auditrail send --stdin` streams from an open pipe does not end it: the
//! lines read before and after the signal are all written to the file target, and the
//! run ends normally (exit 0) when its input ends. Before, SIGHUP's default action
//! ended the process at once and the lines it had read but not yet delivered were lost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn sighup_while_streaming_is_logged_and_nothing_is_lost() {
    let node = common::Node::with_file_target("");
    let mut send = common::StreamingSend::start(&node, &["--timeout", "30"]);
    send.write_logins(5);
    let written = || node.path().join("audit/audit.log").exists() && node.audit_lines().len() == 5;
    assert!(
        wait_until(Duration::from_secs(30), written),
        "the first lines were not written"
    );

    let pid = send.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let logged = || send.stderr().contains("SIGHUP");
    assert!(
        wait_until(Duration::from_secs(30), logged),
        "the SIGHUP was not logged: {}",
        send.stderr()
    );

    // Lines after the signal: a process that SIGHUP ended cannot take them.
    for i in 5..10 {
        let _ = writeln!(
            send.input,
            "{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}"
        );
    }
    let common::StreamingSend { child, input, log } = send;
    drop(input);
    let out = child.wait_with_output().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut users: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["authUser"].as_str().unwrap().to_owned())
        .collect();
    users.sort();
    let want: Vec<String> = (0..10).map(|i| format!("u{i}")).collect();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(users, want_sorted, "{stderr}");
}
