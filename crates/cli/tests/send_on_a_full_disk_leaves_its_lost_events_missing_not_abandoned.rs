//! A node's run folder is on a full disk (a real 1 MiB tmpfs) and its event server is
//! down: `send` spools what fits, reports the rest LOST (exit 4), and its clean stop
//! must still record the next sequence number, which the atomic write (a new
//! temporary file) cannot on a full disk. Space comes back, the server starts, the node
//! sends again: the numbers of the events it lost are counted as `missing` by the
//! server (the "gaps in a node's sequence" alert), not announced as abandoned numbers
//! of a crashed run (`abandonedRanges`, `missing` 0).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, Tmpfs};
use crate::serve_support;

use std::process::Command;

use auditrail_testkit::port::Port;
use auditrail_testkit::server::ServerProcess;

#[test]
fn events_lost_on_a_full_disk_are_missing_on_the_server_not_abandoned() {
    let Some(fs) = Tmpfs::mount("1m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let port = Port::new();
    let node = common::node_sending_to(port.addr(), &fs.path().join("run"));
    let input = common::bare_messages(3000);
    let send = |args: &[&str], stdin: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
        cmd.args(["send", "--config", "node.toml", "--topic", "generic"])
            .args(args)
            .current_dir(node.path());
        common::output_fed(cmd, stdin)
    };
    let out = send(&["--stdin", "--timeout", "3"], &input);
    assert_eq!(out.status.code(), Some(4), "{:?}", common::text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lost = summary["lost"].as_u64().unwrap();
    assert!(lost > 0, "the disk did not fill: {summary}");
    // The clean stop was recorded: the next run is no crash's successor.
    let seq = std::fs::read_to_string(fs.path().join("run/seq/n1")).unwrap();
    assert_eq!(
        seq.split_whitespace().collect::<Vec<_>>(),
        ["next", "3001"],
        "{seq:?}"
    );

    fs.grow("20m");
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_on(data.path(), None, port);
    let out = send(&["--msg-type", "later", "--timeout", "10"], "");
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));

    let (status, body) =
        serve_support::request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    let n = &stats["nodes"]["n1"];
    assert_eq!(n["highestSeq"], 3001, "{n}");
    assert_eq!(n["abandoned"], 0, "{n}");
    // Every number below the highest is an event: stored, or missing (the lost ones,
    // and any dead-lettered).
    let (count, missing) = (n["count"].as_u64().unwrap(), n["missing"].as_u64().unwrap());
    assert_eq!(count + missing, 3001, "{n}");
    assert!(missing >= lost, "lost {lost}: {n}");
}
