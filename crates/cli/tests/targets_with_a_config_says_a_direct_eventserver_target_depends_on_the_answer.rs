//! `auditrail targets --config` called an `eventserver` target with `spool = false`
//! (direct mode) `durable`, although its acknowledgement is the server's `200`, and
//! whether that server fsyncs is not known to the node (a destination with a flush
//! policy or without fsync answers `durable: false`). Such a target is now listed
//! `depends on the answer: <how>`, naming `spool = false`; a spooled one keeps its
//! own word (`durable`: the spool is fsynced).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::Command;

#[test]
fn a_direct_eventserver_target_is_listed_as_depending_on_the_servers_answer() {
    let node = common::Node::with_eventserver_target(
        "node-direct",
        "http://127.0.0.1:9",
        "spool = false\n\n[[targets]]\ntype = \"eventserver\"\nname = \"spooled\"\nurl = \"http://127.0.0.1:9\"",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["targets", "--config"])
        .arg(node.path().join("node.toml"))
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0][..2], ["central", "eventserver"], "{stdout}");
    assert!(
        lines[0][2].starts_with("depends on the answer: ")
            && lines[0][2].contains("spool = false")
            && lines[0][2].contains("\"durable\": false"),
        "{stdout}"
    );
    assert_eq!(lines[1], ["spooled", "eventserver", "durable"], "{stdout}");
}
