//! A node process killed while idle (it sent nothing) leaves the rest of its sequence
//! reservation unused. Its next run announces the abandoned numbers with its first
//! event, and the server reports them as abandoned, not missing — also after the
//! server restarted and rebuilt its state from the store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::serve_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

fn node_stats(addr: &str) -> serde_json::Value {
    let (status, body) = serve_support::request(addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["nodes"]["node-gap"].clone()
}

#[test]
fn an_idle_node_killed_leaves_abandoned_numbers_not_missing_events() {
    let root = tempfile::tempdir().unwrap();
    let server = serve_support::start(root.path(), &["--data-dir", "data"]);
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-gap\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nurl = \"http://{}\"\n",
            server.addr
        ),
    )
    .unwrap();
    let one = [
        "send",
        "--config",
        "node.toml",
        "--topic",
        "generic",
        "--msg-type",
        "login",
    ];
    for _ in 0..3 {
        assert!(node.run(&one, "").status.success());
    }
    // A run that starts, reserves numbers, and is killed before it sends anything.
    let mut idle = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let seq_file = node.path().join("run/seq/node-gap");
    assert!(wait_until(Duration::from_secs(30), || {
        std::fs::read_to_string(&seq_file).is_ok_and(|t| t.starts_with("reserved"))
    }));
    idle.kill().unwrap(); // SIGKILL: no clean shutdown
    idle.wait().unwrap();
    assert!(node.run(&one, "").status.success());

    let n = node_stats(&server.addr);
    assert_eq!(n["count"], 4, "{n}");
    assert_eq!(n["missing"], 0, "{n}");
    assert_eq!(n["abandoned"], 1 << 20, "{n}");
    assert_eq!(n["abandonedRanges"][0]["first"], 4, "{n}");

    // The announcement is stored with the event: a restarted server knows it too.
    assert_eq!(server.terminate(), 0);
    let again = serve_support::start(root.path(), &["--data-dir", "data"]);
    let n = node_stats(&again.addr);
    assert_eq!(
        (n["missing"].clone(), n["abandoned"].clone()),
        (0.into(), (1 << 20).into()),
        "{n}"
    );
    again.terminate();
}
