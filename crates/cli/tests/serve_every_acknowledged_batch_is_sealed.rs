//! Nothing acknowledged is ever unsigned: before `auditrail serve` answers 200, a
//! signed, fsynced line of the store's checkpoint log (a seal) vouches for the batch's
//! records, even with periodic checkpoints switched off. So a server killed with
//! `kill -9` right after its answers leaves a store whose every acknowledged record is
//! covered by a signature, and `auditrail verify` then names a record changed after
//! the kill as a changed, signed record (not as an unsigned tail anybody could
//! rewrite, ../shared/cases/tamper-01).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serve_support::*;

/// No checkpoints by count or time: only seals can cover the records.
const CONFIG: &str = "data_dir = \"data\"\n[checkpoints]\nevery_records = 0\nevery_seconds = 0\n\
                      [[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// The chainSeq of the last line of the checkpoint log, read as the answer arrives.
fn last_sealed(log: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["chainSeq"].as_u64())
        .unwrap_or(0)
}

fn verify(data: &std::path::Path) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(data)
        .arg("--json")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code(), report)
}

#[test]
fn every_200_is_covered_by_a_seal_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let data = dir.path().join("data");
    let log = data.join("store/checkpoints.jsonl");
    for b in 0..5u64 {
        let body: String = (0..40)
            .map(|i| event_line(&new_id(b * 40 + i, 61), "node-s", b * 40 + i + 1) + "\n")
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
        let last_seq = answer["receipt"]["lastSeq"].as_u64().unwrap();
        assert!(
            last_sealed(&log) >= last_seq,
            "batch {b} was answered 200 up to chainSeq {last_seq}, but the log seals only \
             up to {}",
            last_sealed(&log)
        );
    }
    server.kill9();

    // Every acknowledged record is covered: verify passes on the killed server's store.
    let (code, report) = verify(&data);
    assert_eq!(code, Some(0), "{report:#}");
    let store = &report["stores"][0];
    assert_eq!(store["lastSeq"], 200, "{report:#}");
    assert_eq!(store["lastCheckpointSeq"], 200, "{report:#}");

    // So a record edited (and the chain recomputed) after the kill is a signed record
    // that changed.
    auditrail_testkit::store::rewrite_and_rechain(&data.join("store"), 150, "node-s", "node-x");
    let (code, report) = verify(&data);
    assert_ne!(code, Some(0), "{report:#}");
    assert_eq!(report["ok"], false, "{report:#}");
}
