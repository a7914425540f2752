//! A run whose first event carries the announcement of a crashed run's numbers, killed
//! (SIGKILL) while a target still holds that event in memory, leaves the announcement in
//! the sequence file: the next run announces the numbers again (with the killed run's
//! own), so the server does not report them missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

const BLOCK: u64 = 1 << 20;

const FILE_TARGET: &str =
    "node = \"cli-test-node\"\nrun_dir = \"run\"\n\n[[targets]]\ntype = \"file\"\ndir = \"audit\"\n";

#[test]
fn an_announcement_whose_event_a_target_still_held_is_announced_again_after_a_kill() {
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
    let seq_file = node.path().join("run/seq/cli-test-node");

    // A run killed before its first event: it reserved 2..=BLOCK+1.
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
            std::fs::read_to_string(&seq_file).is_ok_and(|t| t.starts_with("reserved"))
        }),
        "the run never wrote its reservation"
    );
    idle.kill().unwrap();
    idle.wait().unwrap();

    // The next run also sends to an event server that never answers (nothing listens
    // on port 9), without a spool: its first event, carrying the announcement, is
    // written by the file target and held in memory by the other when the run is
    // killed.
    std::fs::write(
        node.path().join("node.toml"),
        format!("{FILE_TARGET}\n[[targets]]\ntype = \"eventserver\"\nurl = \"http://127.0.0.1:9\"\nspool = false\n"),
    )
    .unwrap();
    let mut send = common::StreamingSend::start(&node, &[]);
    send.write_logins(1);
    assert!(
        wait_until(Duration::from_secs(30), || {
            node.audit_lines()
                .last()
                .is_some_and(|l| l.get("abandonedSeqs").is_some())
        }),
        "the file target never wrote the first event"
    );
    let carrier = node.audit_lines().last().unwrap().clone();
    assert_eq!(carrier["seq"], BLOCK + 2, "{carrier}");
    assert_eq!(carrier["abandonedSeqs"]["first"], 2, "{carrier}");
    send.child.kill().unwrap(); // SIGKILL: the event server target still holds it
    send.child.wait().unwrap();

    // The run after announces 2.. again, joined with the killed run's own numbers.
    std::fs::write(node.path().join("node.toml"), FILE_TARGET).unwrap();
    assert!(node.run(&one, "").status.success());
    let last = node.audit_lines().last().unwrap().clone();
    assert_eq!(last["seq"], 2 * BLOCK + 2, "{last}");
    assert_eq!(
        last["abandonedSeqs"],
        serde_json::json!({"first": 2, "last": 2 * BLOCK + 1}),
        "{last}"
    );
}
