//! `auditrail tail` follows a real `auditrail serve` process: it prints the newest kept
//! events that match (`-n`), then each matching event accepted later, with the server
//! applying `--topic`, `--user`, ... ; a wrong stats key is refused with the server's
//! message; when the server stops, tail says so and exits non-zero.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

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

/// A running `auditrail tail`: its stdout lines arrive on `lines`; its stderr goes to
/// the file `stderr` (read when a wait fails, and at the end).
struct Tail {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    stderr: std::path::PathBuf,
}

/// Starts `auditrail tail ARGS`, its stderr written to `DIR/NAME.stderr`.
fn tail(dir: &std::path::Path, name: &str, args: &[&str]) -> Tail {
    let stderr = dir.join(format!("{name}.stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("tail")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Tail {
        child,
        lines: rx,
        stderr,
    }
}

impl Tail {
    /// The next stdout line (bounded wait; the failure shows tail's stderr).
    fn next(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| {
                panic!(
                    "tail printed no line within 30 s ({e}); its stderr: {}",
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                )
            })
    }
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

    let mut json_tail = tail(
        dir.path(),
        "json",
        &[
            "--server", &url, "--topic", "authfail", "-n", "5", "--format", "ndjson",
        ],
    );
    let mut text_tail = tail(
        dir.path(),
        "text",
        &["--server", &url, "--user", "bob", "-n", "0"],
    );
    let seq = |line: String| -> u64 {
        let v: Value = serde_json::from_str(&line).unwrap();
        v["clientEvent"]["seq"].as_u64().unwrap()
    };
    assert_eq!(seq(json_tail.next()), 1);
    assert_eq!(seq(json_tail.next()), 3);

    // Each tail's request may reach the server after these posts: post until both
    // followers have one (each post is a new event; the first one each sees ends its
    // wait). The text follower has no backlog (`-n 0`), so before it is subscribed it
    // would miss everything: waiting for the JSON follower alone is not enough.
    let mut n = 10;
    let mut first_live = None;
    let mut text_live = false;
    while first_live.is_none() || !text_live {
        n += 1;
        assert!(n < 200, "the followers did not get live events");
        let e = event(n, "n2", "authfail", "bob");
        assert_eq!(post_events(&server.addr, &e, None).unwrap().0, 200);
        if first_live.is_none() {
            if let Ok(line) = json_tail.lines.recv_timeout(Duration::from_millis(500)) {
                first_live = Some(seq(line));
            }
        }
        if !text_live {
            if let Ok(line) = text_tail.lines.recv_timeout(Duration::from_millis(500)) {
                assert!(line.contains(" n2 authfail - login bob"), "{line}");
                text_live = true;
            }
        }
    }
    assert!(first_live.is_some_and(|s| s > 10));
    let other = event(100, "n2", "generic", "alice");
    assert_eq!(post_events(&server.addr, &other, None).unwrap().0, 200);
    let last = event(101, "n3", "authfail", "bob");
    assert_eq!(post_events(&server.addr, &last, None).unwrap().0, 200);
    // Later events arrive in order; the generic one is filtered out.
    let mut seen = Vec::new();
    loop {
        let s = seq(json_tail.next());
        seen.push(s);
        if s == 101 {
            break;
        }
    }
    assert!(!seen.contains(&100), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    // The text follower (user bob, no backlog) prints one line per event.
    let line = loop {
        let l = text_tail.next();
        if l.contains(" n3 ") {
            break l;
        }
        assert!(l.contains(" n2 authfail - login bob"), "{l}");
    };
    assert!(line.ends_with(" n3 authfail - login bob"), "{line}");

    assert_eq!(server.terminate(), 0);
    for t in [&mut json_tail, &mut text_tail] {
        let status = t.child.wait().unwrap();
        assert!(
            !status.success(),
            "tail exits non-zero when the stream ends"
        );
    }
    let stderr = std::fs::read_to_string(&json_tail.stderr).unwrap();
    assert!(
        stderr.contains("the server ended the stream: the server is stopping"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_key_and_a_bad_filter_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nrequire_auth_for_stats = true\n[[stats_keys]]\nid = \"ops\"\nsecret = \"ops-secret\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
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
