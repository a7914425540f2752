//! A line cut short (crash, full disk) is skipped by the reader with a warning, never
//! an error, and never takes the neighbouring lines with it.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

/// Writes `n` events with the real target and returns the file's text.
async fn written(dir: &Path, n: usize) -> String {
    let d = common::dispatcher("node-torn", json!({ "dir": dir }));
    for i in 0..n {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    std::fs::read_to_string(dir.join("audit.log")).unwrap()
}

fn append(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_last_line_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let text = written(dir.path(), 3).await;
    let first_line = text.lines().next().unwrap();
    // A crash in the middle of the next write: half a line, no newline.
    let path = dir.path().join("audit.log");
    append(&path, &first_line.as_bytes()[..first_line.len() / 2]);

    let read = auditrail_target_file::read_audit_file(&path).unwrap();
    assert_eq!(read.events.len(), 3);
    assert!(read.skipped_torn_tail());
    assert_eq!(read.torn.len(), 1);
    assert_eq!(read.torn[0].line, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_started_after_a_crash_writes_after_the_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = written(dir.path(), 2).await;
    let path = dir.path().join("audit.log");
    let line = text.lines().next().unwrap();
    append(&path, &line.as_bytes()[..40]);
    // A new target on the same file starts its first line on a new line.
    let more = written(dir.path(), 2).await;
    assert!(more.contains(&format!("{}\n{{\"severity\"", &line[..40])));

    let read = auditrail_target_file::read_audit_file(&path).unwrap();
    assert_eq!(read.events.len(), 4);
    assert_eq!(read.torn.len(), 1);
    assert!(!read.skipped_torn_tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_glued_to_another_writers_line_is_cut_off() {
    // Another process appended a whole line right after a writer whose write failed
    // half-way: the fragment and the whole line share a line in the file.
    let dir = tempfile::tempdir().unwrap();
    let text = written(dir.path(), 2).await;
    let lines: Vec<&str> = text.lines().collect();
    let path = dir.path().join("glued.log");
    let glued = format!(
        "{}\n{}{}\n",
        lines[0],
        &lines[0][..lines[0].len() - 10],
        lines[1]
    );
    std::fs::write(&path, glued).unwrap();

    let read = auditrail_target_file::read_audit_file(&path).unwrap();
    assert_eq!(read.events.len(), 2);
    assert_eq!(read.torn.len(), 1);
    assert_eq!(read.torn[0].line, 2);
    let second = auditrail_target_file::read::parse_line(lines[1].as_bytes()).unwrap();
    assert_eq!(read.events[1], second);
}
