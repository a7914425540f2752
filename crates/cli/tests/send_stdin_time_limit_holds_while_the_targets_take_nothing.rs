//! `auditrail send --stdin --timeout 1 < FILE` whose only target cannot take events (a
//! file target whose `audit.log` is a folder) and whose input is longer than what the
//! run keeps in flight: reading waits for room, none comes, and the time limit still
//! holds. The run ends by itself, dead-letters every event it read (exit status 4),
//! and names where reading stopped. (It waited for ever: the reader blocked on the
//! full queue, the input never counted as ended, and the time limit never started.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

/// More lines than the run holds in flight (8 batches of 1000) plus what its reader
/// queues (1000): reading must wait for room.
const LINES: usize = 30_000;

#[test]
fn send_ends_after_the_time_limit_and_dead_letters_what_it_read() {
    let node = common::Node::with_file_target("");
    std::fs::create_dir_all(node.path().join("audit/audit.log")).unwrap();
    let input = node.path().join("in.jsonl");
    let lines: String = (0..LINES)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"t\",\"i\":{i}}}}}\n"))
        .collect();
    std::fs::write(&input, lines).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin", "--timeout", "1"])
        .current_dir(node.path())
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        // A file: a warning per dead-lettered event fills a pipe nobody reads yet.
        .stderr(std::fs::File::create(node.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    // A guard against the hang only, far beyond the time limit.
    let ended = wait_until(Duration::from_secs(120), || {
        child.try_wait().unwrap().is_some()
    });
    if !ended {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, _) = common::text(&out);
    let stderr = std::fs::read_to_string(node.path().join("stderr.log")).unwrap();
    assert!(
        ended,
        "send --timeout 1 was still running after 120 s\n{stdout}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent > 0 && sent < LINES as u64, "{summary}");
    assert_eq!(summary["deadLettered"], sent, "{summary}");
    let dead: usize = std::fs::read_dir(node.path().join("run/deadletter"))
        .unwrap_or_else(|e| panic!("no dead-letter folder: {e}\n{stderr}"))
        .map(|f| {
            std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .lines()
                .count()
        })
        .sum();
    assert_eq!(dead as u64, sent, "{stderr}");
    assert!(stderr.contains("time limit"), "{stderr}");
}
