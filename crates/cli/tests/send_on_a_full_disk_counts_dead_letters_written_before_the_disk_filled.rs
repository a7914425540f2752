//! A node's run folder (spool, dead letters) is on a full disk (a real 1 MiB tmpfs)
//! and its event server is down. At the time limit the events the spool could not take
//! are dead-lettered, and the dead-letter file fills the disk part way through the
//! batch. The events whose whole line is in the file are dead-lettered (counted
//! `deadLettered`, re-sendable); only the others are reported `EVENT LOST` and counted
//! `lost`. (All of the batch was reported lost, many with a complete line in the file.)
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, Tmpfs};

use std::collections::HashSet;
use std::process::Command;

use auditrail_testkit::port::Port;

#[test]
fn only_events_without_a_whole_dead_letter_line_are_reported_lost() {
    let Some(fs) = Tmpfs::mount("1m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let down = Port::new(); // nothing listens there
    let node = common::node_sending_to(down.addr(), &fs.path().join("run"));
    let input = common::bare_messages(3000);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auditrail"));
    cmd.args([
        "send",
        "--config",
        "node.toml",
        "--topic",
        "generic",
        "--stdin",
        "--timeout",
        "3",
    ])
    .current_dir(node.path());
    let out = common::output_fed(cmd, &input);
    let (stdout, stderr) = common::text(&out);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();

    let text = std::fs::read(fs.path().join("run/deadletter/central.jsonl")).unwrap();
    // Whole lines read back; the one the disk cut does not (a fragment).
    let dead_lettered: HashSet<String> = text
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .filter_map(|l| Some(l["event"]["id"].as_str()?.to_owned()))
        .collect();
    let reported_lost: HashSet<&str> = stderr
        .lines()
        .filter(|l| l.contains("EVENT LOST"))
        .filter_map(|l| l.split("event_id=").nth(1)?.split_whitespace().next())
        .collect();
    assert!(
        !reported_lost.is_empty() && !dead_lettered.is_empty(),
        "the disk did not fill part way through the dead letters: {summary}"
    );
    let both: Vec<_> = reported_lost
        .iter()
        .filter(|id| dead_lettered.contains(**id))
        .collect();
    assert!(
        both.is_empty(),
        "reported LOST, yet in the dead-letter file: {both:?}"
    );
    assert_eq!(summary["deadLettered"], dead_lettered.len(), "{summary}");
    assert_eq!(summary["lost"], reported_lost.len(), "{summary}");
    assert_eq!(out.status.code(), Some(4), "{summary}");
}
