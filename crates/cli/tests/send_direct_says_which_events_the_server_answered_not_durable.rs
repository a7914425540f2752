//! `auditrail send` through an `eventserver` target with `spool = false` (direct mode)
//! reported an event delivered, exit status 0, `notDurable` 0, when the server had
//! answered `durable: false` (a store with a flush policy: written, not fsynced): the
//! server's answer was counted only by a spooled target's forwarding probe. The target
//! now counts what its server answered not durable for the dispatcher
//! (`Target::taken_not_durable`, `TargetStats::not_durable`): the summary counts the
//! event in `notDurable`, the target's stderr line says `NOT DURABLE at the event
//! server`, and the exit status is 5; against a server that fsyncs, nothing of the
//! kind, exit status 0 (the target's durability, "depends on the answer", does not
//! make its events not durable by itself). A real server, real HTTP over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;

/// Sends one event in direct mode to a server started with `destination` (none: the
/// default durable store); returns the exit status, the summary and stderr.
fn send_direct_to(destination: Option<&str>) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = destination.map(|d| {
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            format!("data_dir = {:?}\n{d}", data.display().to_string()),
        )
        .unwrap();
        file
    });
    let server = ServerProcess::start(&data, config.as_deref());
    let node = common::Node::with_eventserver_target("node-direct", &server.url, "spool = false");
    let out = node.send_login("20");
    let (stdout, stderr) = common::text(&out);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(server.stored().len(), 1, "{stdout}\n{stderr}");
    assert!(
        !node.path().join("run").join("spool").exists(),
        "direct mode keeps no spool: {stderr}"
    );
    (out.status.code(), summary, stderr)
}

#[test]
fn an_event_the_server_answered_not_durable_is_counted_and_exits_5() {
    let (status, summary, stderr) = send_direct_to(Some(
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\n\
         flush = { every_bytes = 1048576, every_seconds = 60 }\n",
    ));
    assert_eq!(status, Some(5), "{summary}\n{stderr}");
    assert_eq!(summary["acknowledged"], 1, "{summary}");
    assert_eq!(summary["spooled"], 0, "{summary}");
    assert_eq!(summary["notDurable"], 1, "{summary}");
    let line = stderr
        .lines()
        .find(|l| l.contains("target central (eventserver)"))
        .unwrap_or_else(|| panic!("no target line: {stderr}"));
    assert!(
        line.contains("1 delivered") && line.contains("1 NOT DURABLE at the event server"),
        "{line}"
    );
    assert!(!line.contains("NOT DURABLE on this node"), "{line}");
}

#[test]
fn an_event_the_server_answered_durable_exits_0() {
    let (status, summary, stderr) = send_direct_to(None);
    assert_eq!(status, Some(0), "{summary}\n{stderr}");
    assert_eq!(summary["notDurable"], 0, "{summary}");
    assert!(!stderr.contains("NOT DURABLE"), "{stderr}");
}
