//! `auditrail send --stdin < FILE` stopped before the end of its input, by SIGTERM or by
//! the time limit while its only target cannot take events (a file target whose
//! `audit.log` is a folder): the summary counts the lines read, and stderr names the
//! first line not read and how to send the rest (`tail -n +N FILE`), as it does after
//! a bad line. (It said nothing of the unread rest: the usual advice, to re-send the
//! dead-letter file, lost it.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use auditrail_testkit::server::wait_until;

/// More lines than the run holds in flight and queued (about 10 000): some are never
/// read while the target takes nothing.
const LINES: usize = 30_000;

/// `send --stdin --timeout TIMEOUT < in.jsonl` (LINES events) in a node whose file
/// target cannot write; stderr in `<node>/stderr.log`.
fn start(node: &common::Node, timeout: &str) -> Child {
    std::fs::create_dir_all(node.path().join("audit/audit.log")).unwrap();
    let input = node.path().join("in.jsonl");
    let lines: String = (0..LINES)
        .map(|i| format!("{{\"topic\":\"generic\",\"message\":{{\"msgType\":\"t\",\"i\":{i}}}}}\n"))
        .collect();
    std::fs::write(&input, lines).unwrap();
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--timeout",
            timeout,
        ])
        .current_dir(node.path())
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(node.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap()
}

fn stderr(node: &common::Node) -> String {
    std::fs::read_to_string(node.path().join("stderr.log")).unwrap_or_default()
}

fn kill(child: &Child, signal: &str) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
}

/// Once the target failed (its retries are logged) and the reader waits for room:
/// SIGTERM, and reading stops.
fn term_while_reading_waits(node: &common::Node, child: &Child) {
    assert!(
        wait_until(Duration::from_secs(60), || stderr(node)
            .contains("retryable error")),
        "no retry logged: {}",
        stderr(node)
    );
    kill(child, "-TERM");
    assert!(
        wait_until(Duration::from_secs(60), || stderr(node)
            .contains("reading stops")),
        "{}",
        stderr(node)
    );
}

/// Waits for the end (a generous guard against a hang, never a measure).
fn ended(node: &common::Node, mut child: Child) -> Output {
    let done = wait_until(Duration::from_secs(120), || {
        child.try_wait().unwrap().is_some()
    });
    if !done {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(done, "send still running after 120 s\n{}", stderr(node));
    out
}

/// The summary's `sent` (every line so far is an event), and that stderr names the
/// line after it as the first one not read.
fn names_the_first_line_not_read(node: &common::Node, out: &Output) {
    let (stdout, _) = common::text(out);
    let stderr = stderr(node);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let sent = summary["sent"].as_u64().unwrap();
    assert!(sent < LINES as u64, "{summary}");
    let next = sent + 1;
    assert!(
        stderr.contains(&format!("line {next} and the lines after it were not read"))
            && stderr.contains(&format!("tail -n +{next} ")),
        "no word of line {next} on: {summary}\n{stderr}"
    );
}

#[test]
fn sigterm() {
    let node = common::Node::with_file_target("");
    let child = start(&node, "30");
    term_while_reading_waits(&node, &child);
    // The second signal ends the wait for the events read (the target takes none).
    kill(&child, "-TERM");
    let out = ended(&node, child);
    names_the_first_line_not_read(&node, &out);
}

#[test]
fn time_limit() {
    let node = common::Node::with_file_target("");
    let child = start(&node, "1");
    let out = ended(&node, child);
    names_the_first_line_not_read(&node, &out);
}

/// Every line read was delivered (the target recovered after the signal), but the
/// file holds lines not read: the exit status is 1, not 0 (a cron job's `send < FILE`
/// stopped by its service manager reported success and the rest was never sent).
#[test]
fn sigterm_with_every_line_read_delivered_still_fails() {
    let node = common::Node::with_file_target("");
    let child = start(&node, "60");
    term_while_reading_waits(&node, &child);
    // The target can write again: the events read are delivered.
    std::fs::remove_dir(node.path().join("audit/audit.log")).unwrap();
    let out = ended(&node, child);
    names_the_first_line_not_read(&node, &out);
    let (stdout, _) = common::text(&out);
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["acknowledged"], summary["sent"], "{summary}");
    assert_eq!(out.status.code(), Some(1), "{summary}\n{}", stderr(&node));
}
