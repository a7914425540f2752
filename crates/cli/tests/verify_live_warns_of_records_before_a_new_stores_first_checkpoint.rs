//! `auditrail verify --live` of a new store whose server has not written its first
//! checkpoint line yet (records, no line: the server writes it once its first batch is
//! durable) warns `no-checkpoints` saying so, instead of failing a healthy store; the
//! same store checked offline still fails, and so does a store whose log was removed
//! after its high-water mark named a line (`--live` or not).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support::{error_kinds, fifty_records};
use std::path::Path;
use std::process::Command;

/// `auditrail verify data ARGS --public-key KEY --json`: exit code and report.
fn verify(dir: &Path, key: &str, live: bool) -> (i32, serde_json::Value) {
    let mut args = vec!["verify", "data", "--public-key", key, "--json"];
    if live {
        args.push("--live");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

fn warnings(report: &serde_json::Value) -> Vec<String> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "warning")
        .map(|p| format!("{} {}", p["kind"].as_str().unwrap(), p["message"]))
        .collect()
}

#[test]
fn records_before_the_first_line_are_a_warning_with_live_only() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    // A log whose mark names its lines, removed: an error with `--live` too.
    std::fs::remove_file(store.join("checkpoints.jsonl")).unwrap();
    let (code, report) = verify(dir.path(), &key, true);
    assert_eq!(code, 1, "{report}");
    assert!(!error_kinds(&report).is_empty(), "{report}");

    // The picture of a new store before its first line: records, no log, no mark
    // naming a line.
    std::fs::remove_file(dir.path().join("data/high-water.jsonl")).unwrap();
    let (code, report) = verify(dir.path(), &key, true);
    assert_eq!(code, 0, "{report}");
    assert!(
        warnings(&report)
            .iter()
            .any(|w| w.starts_with("no-checkpoints") && w.contains("first checkpoint line")),
        "{report}"
    );
    let (code, report) = verify(dir.path(), &key, false);
    assert_eq!(code, 1, "{report}");
    assert_eq!(error_kinds(&report), vec!["no-checkpoints"], "{report}");
}
