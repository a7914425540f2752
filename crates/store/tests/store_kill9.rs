//! `kill -9` of a process while it writes to a store, then reopen: every batch that
//! was acknowledged is there exactly once, recovery leaves no torn record, and the
//! whole chain verifies record by record.
//!
//! The writer is this same test binary, re-run as a child process (selected by an
//! environment variable), so the kill hits a real process in the middle of its writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use store_support::*;

const CHILD_ENV: &str = "AUDITRAIL_STORE_KILL9_CHILD";
const BATCH: u64 = 50;

/// Three partitions per batch, so a batch spans several files.
fn batch(first: u64) -> Vec<std::sync::Arc<auditrail_core::Event>> {
    (first..first + BATCH)
        .map(|n| {
            let key = ["a", "b", "c"][(n % 3) as usize];
            event("generic", Some(key), "2026-11-25T16:55:49.123Z", n)
        })
        .collect()
}

/// The child: writes batches forever, printing each acknowledged one.
#[test]
fn kill9_child_writer() {
    let Ok(root) = std::env::var(CHILD_ENV) else {
        return; // only runs as the child of the test below
    };
    let t = open(
        std::path::Path::new(&root),
        json!({"segment_max_bytes": 65536}),
    );
    let mut out = std::io::stdout().lock();
    let mut n = 1;
    loop {
        t.send_blocking(&batch(n)).unwrap();
        writeln!(out, "acked {n}").unwrap();
        out.flush().unwrap();
        n += BATCH;
    }
}

#[test]
fn acknowledged_batches_survive_kill9_exactly_once_and_the_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &auditrail_testkit::process::harness_name(module_path!(), "kill9_child_writer"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked_first_ids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked_first_ids.len() < 40 {
        assert!(
            Instant::now() < deadline,
            "the child acknowledged too little in time"
        );
        let line = lines.next().expect("child stopped").unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked_first_ids.push(n.parse::<u64>().unwrap());
        }
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    // Acknowledgements the child printed before it died also count.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("acked ") {
            acked_first_ids.push(n.parse::<u64>().unwrap());
        }
    }

    let t = open(&root, json!({"segment_max_bytes": 65536}));
    let report = t.handle().recovery_report();
    assert!(
        report.corrupt_files.is_empty() && !report.gap_left_in_place,
        "{report:?}"
    );
    drop(t);
    let head = verify_chain(&root);
    let mut count: HashMap<u64, usize> = HashMap::new();
    for e in stored_events(&root) {
        *count.entry(e.seq).or_default() += 1;
    }
    assert!(count.values().all(|c| *c == 1), "an event is stored twice");
    for first in &acked_first_ids {
        for n in *first..first + BATCH {
            assert_eq!(count.get(&n), Some(&1), "acknowledged event {n} is missing");
        }
    }
    assert_eq!(head.seq as usize, count.len());
}
