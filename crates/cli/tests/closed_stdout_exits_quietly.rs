//! When nobody reads `auditrail`'s output any more (`auditrail query … | head`,
//! `auditrail targets --example file | true`), every subcommand stops quietly: no
//! panic message, no "Broken pipe" error, the status a shell gives a process that
//! SIGPIPE ended (141). Each case runs the real binary with its stdout on a real pipe
//! whose reading end is closed before the process starts, so its first write fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::serve_support;

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `auditrail ARGS` in `dir` with stdout on a pipe nobody reads; (status, stderr).
fn with_closed_stdout(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet(dir: &Path, args: &[&str]) {
    let (code, stderr) = with_closed_stdout(dir, args);
    assert_eq!(code, Some(141), "{args:?}: {stderr}");
    assert!(
        !stderr.contains("panicked")
            && !stderr.contains("Broken pipe")
            && !stderr.contains("auditrail: error"),
        "{args:?} was not quiet: {stderr}"
    );
}

#[test]
fn targets_list_and_example() {
    let dir = tempfile::tempdir().unwrap();
    assert_quiet(dir.path(), &["targets"]);
    assert_quiet(dir.path(), &["targets", "--example", "file"]);
}

#[test]
fn query_reports_in_text_and_json() {
    let node = common::Node::with_file_target("");
    let line =
        "{\"topic\":\"generic\",\"message\":{\"msgType\":\"login\",\"authUser\":\"alice\"}}\n";
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin"],
        &line.repeat(50),
    );
    assert!(out.status.success(), "{:?}", common::text(&out));
    assert_quiet(node.path(), &["query", "--dir", "audit", "last-activity"]);
    assert_quiet(
        node.path(),
        &["query", "--dir", "audit", "node-usage", "--json"],
    );
}

#[test]
fn verify_report() {
    // A server data dir with one store holding a few events, written by the real server.
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body: String = (1..=20)
        .map(|i| serve_support::event_line(&serve_support::new_id(i, 7), "n1", i) + "\n")
        .collect();
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    assert_quiet(dir.path(), &["verify", "data"]);
    assert_quiet(dir.path(), &["verify", "data", "--json"]);
}

#[test]
fn spool_inspect() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("spool")).unwrap();
    assert_quiet(dir.path(), &["spool", "inspect", "--dir", "spool"]);
}
