//! `auditrail send` waits until its events are delivered (or `--timeout`) and its exit
//! status says where they went: 0 all delivered; 3 durably spooled on the node but not
//! yet at the server; 4 refused for good or not taken in time (in a dead-letter file,
//! named on stderr). Each case runs the real binary against a real server process (or
//! none listening).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use auditrail_testkit::port::Port;

use std::process::Output;

use auditrail_testkit::server::ServerProcess;

fn node_with(target: &str) -> common::Node {
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!("node = \"node-exit\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nshutdown_drain_ms = 100\n{target}\n"),
    )
    .unwrap();
    node
}

fn ten(node: &common::Node, timeout: &str) -> Output {
    let lines: String = (0..10)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"login\",\"authUser\":\"u{i}\"}}}}\n"))
        .collect();
    node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--timeout",
            timeout,
        ],
        &lines,
    )
}

#[test]
fn delivered_to_the_server_is_0() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), None);
    let node = node_with(&format!("url = \"{}\"", server.url));
    let out = ten(&node, "30");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("10 accepted, 10 delivered"), "{stderr}");
    // `send` returned after the server confirmed: the events are stored already.
    assert_eq!(server.stored().len(), 10);
}

#[test]
fn spooled_while_the_server_is_down_is_3() {
    // Held for the whole test: nothing else can listen there.
    let down = Port::new();
    let node = node_with(&format!("url = \"{}\"", down.url()));
    let out = ten(&node, "1");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains("10 still spooled"), "{stderr}");
    assert!(stdout.contains("\"acknowledged\":10"), "{stdout}");
    assert!(stdout.contains("\"spooled\":10"), "{stdout}");
}

#[test]
fn refused_by_the_server_is_4_and_names_the_dead_letter_file() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[[keys]]\nid = \"k\"\nsecret = \"the-right-secret\"\n\n[[destinations]]\ntype = \"store\"\npath = \"{}\"\n",
            root.path().join("data/store").display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(&root.path().join("data"), Some(&config));
    let node = node_with(&format!(
        "url = \"{}\"\nauth_key = \"not-the-secret\"",
        server.url
    ));
    let out = ten(&node, "30");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stderr.contains("10 dead-lettered in"), "{stderr}");
    // The spool took the events (acknowledged), then its sender dead-lettered them: the
    // summary a script reads says so too, not only stderr and the exit status.
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["deadLettered"], 10, "{stdout}");
    assert_eq!(summary["spooled"], 0, "{stdout}");
    let dead = std::fs::read_to_string(node.path().join("run/deadletter/central.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 10);
    assert!(server.stored().is_empty());
}

#[test]
fn no_spool_and_no_server_returns_at_the_timeout_with_4() {
    let down = Port::new();
    let node = node_with(&format!("url = \"{}\"\nspool = false", down.url()));
    let out = ten(&node, "1");
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stderr.contains("10 dead-lettered in"), "{stderr}");
    let dead = std::fs::read_to_string(node.path().join("run/deadletter/central.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 10);
}
