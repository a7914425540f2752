//! Several target instances (dispatchers in this process, and other processes) append
//! to the same folder at once, with a small size limit so that they also roll it
//! concurrently: every line stays whole, every event is there exactly once, and each
//! node's events keep their order across the rolled files.

// `write_events` also runs outside `#[test]` functions (in child processes).
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use auditrail_core::DeliveryOptions;
use serde_json::{json, Value};

const PER_WRITER: usize = 1000;
const DISPATCHERS: usize = 3;
const PROCESSES: usize = 2;

fn config(dir: &Path) -> Value {
    // Rolls every ~20 KB and keeps everything, so the read-back can count it all.
    json!({ "dir": dir, "max_bytes": 20_000, "max_files": 10_000, "fsync": false })
}

/// Small batches: many writes, many chances to interleave.
fn options() -> DeliveryOptions {
    DeliveryOptions {
        batch_max_events: 16,
        ..Default::default()
    }
}

fn write_events(node: &str, dir: &Path) {
    let d = common::dispatcher_with(node, config(dir), options());
    for i in 0..PER_WRITER {
        d.emit(common::sample(i)).unwrap();
    }
    let report = d.shutdown_blocking(Duration::from_secs(60));
    assert!(report.is_clean(), "{report:?}");
}

/// Run by the parent test in child processes (ignored otherwise).
#[test]
#[ignore = "run as a child process by the test below"]
fn child_writer() {
    let dir = std::env::var("AUDITRAIL_TEST_DIR").unwrap();
    let node = std::env::var("AUDITRAIL_TEST_NODE").unwrap();
    write_events(&node, Path::new(&dir));
}

#[test]
fn dispatchers_and_processes_sharing_a_folder_write_only_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            Command::new(&exe)
                .args([
                    "--ignored",
                    "--exact",
                    &auditrail_testkit::process::harness_name(module_path!(), "child_writer"),
                ])
                // Keep the child's test summary out of this test's output.
                .stdout(std::process::Stdio::null())
                .env("AUDITRAIL_TEST_DIR", dir.path())
                .env("AUDITRAIL_TEST_NODE", format!("proc-{p}"))
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..DISPATCHERS {
            let dir = dir.path();
            s.spawn(move || write_events(&format!("thread-{t}"), dir));
        }
    });
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a child writer failed");
    }

    let files = auditrail_target_file::audit_files(dir.path(), "audit.log").unwrap();
    assert!(files.len() > 2, "the folder never rolled: {files:?}");
    // Every line of every file is a whole JSON line: no torn, glued or blank lines. (A
    // blank line was written when a process's target started while another process's
    // write(2) into the same file was half done and took the file's end for a line torn
    // by a crash: CI 94, `audit.log.62:33`; `sink::active::torn_tail` now waits for
    // the size to settle.)
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{}",
            file.display()
        );
        for (n, line) in text.lines().enumerate() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}: {line}", file.display(), n + 1));
            assert!(v["id"].is_string());
        }
    }
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    assert!(read.torn.is_empty(), "{:?}", read.torn);
    let writers = DISPATCHERS + PROCESSES;
    assert_eq!(read.events.len(), writers * PER_WRITER);
    let ids: HashSet<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), read.events.len(), "duplicate events");
    // Per node, file order (oldest file first) is emission order.
    let mut last: HashMap<&str, u64> = HashMap::new();
    for e in &read.events {
        if let Some(prev) = last.insert(e.node.as_str(), e.seq) {
            assert!(e.seq > prev, "{}: seq {} after {prev}", e.node, e.seq);
        }
    }
    assert_eq!(last.len(), writers);
}
