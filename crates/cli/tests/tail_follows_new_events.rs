//! `auditrail tail` follows a real `auditrail serve` process: it prints the newest kept
//! events that match (`-n`), then each matching event accepted later, with the server
//! applying `--topic`, `--user`, ... ; a wrong stats key is refused with the server's
//! message; when the server stops, tail says so and exits non-zero.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use serve_support::*;

fn event(n: u64, node: &str, topic: &str, user: &str) -> String {
    json!({
        "id": new_id(n, 77), "timestamp": "2026-11-29T10:00:00.000Z", "topic": topic,
        "node": node, "seq": n, "message": {"msgType": "login", "authUser": user}
    })
    .to_string()
}

/// Starts `auditrail tail ARGS`; its stdout lines arrive on the receiver.
fn tail(args: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("tail")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn next(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(30))
        .expect("tail printed nothing within 30 s")
}

#[test]
fn tail_prints_the_backlog_then_new_matching_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let url = format!("http://{}", server.addr);
    let before = [
        event(1, "n1", "authfail", "mallory"),
        event(2, "n1", "generic", "alice"),
        event(3, "n1", "authfail", "eve"),
    ]
    .join("\n");
    assert_eq!(post_events(&server.addr, &before, None).unwrap().0, 200);

    let (mut json_tail, json_lines) = tail(&[
        "--server", &url, "--topic", "authfail", "-n", "5", "--format", "ndjson",
    ]);
    let (mut text_tail, text_lines) = tail(&["--server", &url, "--user", "bob", "-n", "0"]);
    let seq = |line: String| -> u64 {
        let v: Value = serde_json::from_str(&line).unwrap();
        v["clientEvent"]["seq"].as_u64().unwrap()
    };
    assert_eq!(seq(next(&json_lines)), 1);
    assert_eq!(seq(next(&json_lines)), 3);

    // Tail's request may reach the server after this post: post until the follower
    // has it (each post is a new event; the first one it sees ends the wait).
    let mut n = 10;
    let first_live = loop {
        n += 1;
        let e = event(n, "n2", "authfail", "bob");
        assert_eq!(post_events(&server.addr, &e, None).unwrap().0, 200);
        if let Ok(line) = json_lines.recv_timeout(Duration::from_millis(500)) {
            break seq(line);
        }
    };
    assert!(first_live > 10);
    let other = event(100, "n2", "generic", "alice");
    assert_eq!(post_events(&server.addr, &other, None).unwrap().0, 200);
    let last = event(101, "n3", "authfail", "bob");
    assert_eq!(post_events(&server.addr, &last, None).unwrap().0, 200);
    // Later events arrive in order; the generic one is filtered out.
    let mut seen = Vec::new();
    loop {
        let s = seq(next(&json_lines));
        seen.push(s);
        if s == 101 {
            break;
        }
    }
    assert!(!seen.contains(&100), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    // The text follower (user bob, no backlog) prints one line per event.
    let line = loop {
        let l = next(&text_lines);
        if l.contains(" n3 ") {
            break l;
        }
        assert!(l.contains(" n2 authfail - login bob"), "{l}");
    };
    assert!(line.ends_with(" n3 authfail - login bob"), "{line}");

    assert_eq!(server.terminate(), 0);
    for child in [&mut json_tail, &mut text_tail] {
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "tail exits non-zero when the stream ends"
        );
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut json_tail.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("ended the stream"), "{stderr}");
}

#[test]
fn a_wrong_key_and_a_bad_filter_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nrequire_auth_for_stats = true\n[[stats_keys]]\nid = \"ops\"\nsecret = \"ops-secret\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let url = format!("http://{}", server.addr);
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["tail", "--server", &url, "--key", "wrong"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "tail",
            "--server",
            &url,
            "--key",
            "ops-secret",
            "--since",
            "last tuesday",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--since"), "{stderr}");
    assert_eq!(server.terminate(), 0);
}
