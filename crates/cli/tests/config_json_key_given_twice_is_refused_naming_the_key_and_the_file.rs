//! A JSON config that gives a key twice in one object is refused, like TOML refuses it:
//! the error names the file, the line and the key's path, and nothing starts. `serde_json`
//! keeps the last of two equal keys, so a `server.json` with `"destinations"` twice used
//! to start with the second list only (the first destination, the catch-all store, was
//! gone without a word and its events were answered `422 unrouted`), and a node's JSON
//! config with `"node"` twice took the last name. Same check at any depth (a key twice in
//! a target entry).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `auditrail ARGS` in `dir`; a process still running after 20 s (a server that
/// started anyway) is killed and reported.
fn run(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "`auditrail {args:?}` was not refused: {:?}",
                common::text(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn assert_refused(out: &Output, expected: &str) {
    let (stdout, stderr) = common::text(out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    assert!(
        stderr.contains("duplicate key"),
        "says what is wrong: {stderr}"
    );
}

#[test]
fn a_server_json_with_destinations_twice_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.json"),
        r#"{"listen": "127.0.0.1:0",
 "destinations": [{"type": "store", "name": "all", "path": "store-all"}],
 "max_body_bytes": 16777216,
 "destinations": [{"type": "store", "name": "svc", "path": "store-svc", "routing_keys": ["svc-a"]}]}
"#,
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["serve", "--config", "server.json", "--data-dir", "data"],
    );
    assert_refused(&out, "server.json: invalid JSON at line 4: destinations:");
    assert!(
        !dir.path().join("data").exists(),
        "nothing was created before the refusal"
    );

    // At any depth: a key twice in one destination.
    std::fs::write(
        dir.path().join("server.json"),
        r#"{"listen": "127.0.0.1:0",
 "destinations": [{"type": "store", "name": "all", "path": "store-all",
                   "path": "store-other"}]}
"#,
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["serve", "--config", "server.json", "--data-dir", "data"],
    );
    assert_refused(
        &out,
        "server.json: invalid JSON at line 3: destinations[0].path:",
    );
}

#[test]
fn a_node_json_config_with_node_twice_sends_nothing() {
    let node = common::Node::with_file_target("");
    std::fs::write(
        node.path().join("node.json"),
        r#"{"node": "first",
 "run_dir": "run",
 "targets": [{"type": "file", "dir": "audit"}],
 "node": "second"}
"#,
    )
    .unwrap();
    let send = [
        "send",
        "--config",
        "node.json",
        "--topic",
        "generic",
        "--msg-type",
        "login",
    ];
    let out = run(node.path(), &send);
    assert_refused(&out, "node.json: invalid JSON at line 4: node:");
    assert!(node.audit_lines().is_empty(), "nothing was sent");

    std::fs::write(
        node.path().join("node.json"),
        r#"{"node": "first", "run_dir": "run",
 "targets": [{"type": "file", "dir": "audit", "topics": ["generic"],
              "topics": ["authfail"]}]}
"#,
    )
    .unwrap();
    let out = run(node.path(), &send);
    assert_refused(
        &out,
        "node.json: invalid JSON at line 3: targets[0].topics:",
    );
    assert!(node.audit_lines().is_empty(), "nothing was sent");
}
