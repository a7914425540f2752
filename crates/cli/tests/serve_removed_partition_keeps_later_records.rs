//! An operator removes the oldest day of a store by hand while the server is stopped.
//! The next start keeps every remaining (acknowledged, checkpointed) record, sets
//! nothing aside, and says which chain range is missing; `auditrail verify` names the
//! range and the folders around it. (Case `ops-01-old-partition-removed`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use std::path::Path;
use std::process::Command;

use serve_support::*;

fn day_events(day: u32, first_seq: u64) -> String {
    (0..40u64)
        .map(|i| {
            let seq = first_seq + i;
            serde_json::json!({
                "id": new_id(seq, 23), "timestamp": format!("2026-11-{day}T10:{i:02}:00.000Z"),
                "topic": "generic", "node": "node-r", "seq": seq,
                "message": {"msgType": "login", "authUser": format!("user{}", i % 5)}
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn set_aside_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().map(Result::unwrap) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().contains(".jsonl.cut")
                || p.to_string_lossy().contains(".jsonl.corrupt")
            {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn removing_the_oldest_day_keeps_every_later_record_and_names_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    // The removed day is a batch of its own: a checkpoint (its seal) vouches for a
    // record of the removed range, as one does whenever a batch ends inside it.
    for body in [day_events(23, 1), day_events(24, 41) + &day_events(25, 81)] {
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    let day = store.join("generic/_none/2026/11/23");
    assert!(day.is_dir());
    std::fs::remove_dir_all(&day).unwrap();

    // Twice: a second start must not cut anything either.
    for _ in 0..2 {
        let server = start(dir.path(), &["--data-dir", "data"]);
        let log = tamper_support::strip_ansi(&server.stderr());
        assert_eq!(tamper_support::stop(server), 0);
        assert!(
            log.contains("acknowledged records are missing")
                && log.contains("first_missing=1")
                && log.contains("last_missing=40"),
            "the start names the missing range: {log}"
        );
        assert_eq!(stored_ids(&store).len(), 80);
        assert_eq!(set_aside_files(&store), Vec::<String>::new());
    }

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "data", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    let missing = problems
        .iter()
        .find(|p| p["kind"] == "missing-records")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        (missing["firstSeq"].as_u64(), missing["lastSeq"].as_u64()),
        (Some(1), Some(40))
    );
    let msg = missing["message"].as_str().unwrap();
    assert!(msg.contains("generic/_none/2026/11/24/10/"), "{msg}");
    // One checkpoint or more: the server may write the removed day's request in two
    // batches, each sealed (CI 129, under load: "2 checkpoints (checkpoints.jsonl:1 to
    // checkpoints.jsonl:2) vouch for records of the range").
    assert!(
        msg.contains("the checkpoint at checkpoints.jsonl:1 vouches for one of them")
            || msg.contains("checkpoints (checkpoints.jsonl:1 to checkpoints.jsonl:"),
        "{msg}"
    );
    // Nothing else is wrong: the remaining records still chain to the checkpoints, and
    // the seal of the removed batch is part of the missing range, not an error of its
    // own (whether a removed range holds a seal depends on where batches ended).
    assert!(
        problems
            .iter()
            .all(|p| p["kind"] == "missing-records" || p["severity"] == "warning"),
        "{report:#}"
    );
}
