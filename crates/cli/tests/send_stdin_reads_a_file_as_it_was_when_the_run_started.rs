//! `auditrail send --stdin < FILE` sends the lines FILE holds when the command starts,
//! even when the run itself appends to FILE. The documented way to re-send dead
//! letters, `send --config node.toml --stdin < run/deadletter/central.jsonl`, appends
//! the events refused again to the file it reads. Reading to the file's end used to
//! send those new lines again, have them refused and appended again, and so on: the
//! command never ended and the file grew until the disk was full. The file here holds
//! more lines than `send` keeps in flight, so the run appends to it before it could
//! have read it to the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use auditrail_testkit::server::{wait_until, ServerProcess};

/// More lines than `send` holds at once (8 batches of 1000 in flight, one being
/// filled, 1000 queued from the reader).
const LINES: usize = 12_000;

/// A loop is shown by the file growing past what one run can add (every line once);
/// the time limit is only a guard against a test that never ends.
const GUARD: Duration = Duration::from_secs(600);

/// Runs `auditrail send --config node.toml --stdin < FILE` in the node folder, where
/// `file` is also what the run appends to; stops it (and fails) once `file` holds more
/// than `2 * LINES` lines. Its stdout and stderr go to files (a pipe nobody reads
/// while it runs would fill up and stop it).
fn send_from_the_file_it_appends_to(node: &common::Node, file: &Path) -> Output {
    let (out_path, err_path) = (node.path().join("stdout"), node.path().join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["send", "--config", "node.toml", "--stdin"])
        .current_dir(node.path())
        .stdin(File::open(file).unwrap())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let mut looped = false;
    let ended = wait_until(GUARD, || {
        looped = lines_of(file) > 2 * LINES;
        looped || child.try_wait().unwrap().is_some()
    });
    if looped || !ended {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "send read back what it appended (or did not end): {} has {} lines (at most {} \
             expected)",
            file.display(),
            lines_of(file),
            2 * LINES,
        );
    }
    Output {
        status: child.wait().unwrap(),
        stdout: std::fs::read(out_path).unwrap(),
        stderr: std::fs::read(err_path).unwrap(),
    }
}

fn lines_of(file: &Path) -> usize {
    std::fs::read(file)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

fn event_ids(lines: &[&str], pointer: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.pointer(pointer).unwrap().as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn dead_letters_refused_again_are_dead_lettered_once_not_read_back() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[[keys]]\nid = \"k\"\nsecret = \"the-right-secret\"\n\n[[destinations]]\ntype = \"store\"\npath = \"{}\"\n",
            root.path().join("data/store").display()
        ),
    )
    .unwrap();
    let server = ServerProcess::start(&root.path().join("data"), Some(&config));
    let node = common::Node::with_file_target("");
    // Every event is refused for good (a wrong key) and dead-lettered by the dispatcher.
    std::fs::write(
        node.path().join("node.toml"),
        format!(
            "node = \"node-dl\"\nrun_dir = \"run\"\n[[targets]]\ntype = \"eventserver\"\nname = \"central\"\nurl = \"{}\"\nauth_key = \"not-the-secret\"\nspool = false\n",
            server.url
        ),
    )
    .unwrap();
    let dead = node.path().join("run/deadletter/central.jsonl");
    std::fs::create_dir_all(dead.parent().unwrap()).unwrap();
    let mut before = String::new();
    for i in 0..LINES {
        let event = serde_json::json!({
            "id": format!("01936f6e-1b2c-7d3e-8f40-{:012x}", i),
            "timestamp": "2026-11-25T10:00:00.000Z", "topic": "generic", "node": "node-dl",
            "seq": i + 1, "message": {"msgType": "login", "i": i}
        });
        let line = serde_json::json!({"failedAt": "2026-11-25T10:00:01.000Z",
            "target": "central", "error": "HTTP 401", "event": event});
        before.push_str(&format!("{line}\n"));
    }
    std::fs::write(&dead, &before).unwrap();

    let out = send_from_the_file_it_appends_to(&node, &dead);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["sent"], LINES, "{summary}");
    assert_eq!(summary["deadLettered"], LINES, "{summary}");
    // The file: its lines as they were, then each event refused again, once.
    let after = std::fs::read_to_string(&dead).unwrap();
    assert!(after.starts_with(&before), "the lines read were changed");
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after[before.len()..].lines().collect();
    assert_eq!(new.len(), LINES);
    let old_ids: HashSet<String> = event_ids(&old, "/event/id").into_iter().collect();
    let new_ids = event_ids(&new, "/event/id");
    assert_eq!(new_ids.iter().collect::<HashSet<_>>().len(), LINES);
    assert!(new_ids.iter().all(|id| old_ids.contains(id)));
    assert!(server.stored().is_empty());
}
