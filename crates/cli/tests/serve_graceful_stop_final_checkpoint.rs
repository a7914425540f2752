//! After a graceful stop (SIGTERM) of `auditrail serve`, `auditrail verify` exits 0 and
//! reports a final checkpoint covering the last stored record, although the checkpoint
//! policy (every 1 000 000 records, never by time, no per-batch seals) signed none
//! while the server ran.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serve_support::*;

#[test]
fn a_graceful_stop_signs_a_checkpoint_over_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\n[checkpoints]\nevery_records = 1000000\nevery_seconds = 0\n\
         seal_every_batch = false\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    for b in 0..3u64 {
        let body: String = (0..50)
            .map(|i| event_line(&new_id(b * 50 + i, 2), "node-g", b * 50 + i + 1) + "\n")
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let data = dir.path().join("data");
    // While running, the policy signed nothing (an empty store needs no checkpoint).
    let log = std::fs::read_to_string(data.join("store/checkpoints.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 0, "{log}");
    assert_eq!(server.terminate(), 0);

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .arg("verify")
        .arg(&data)
        .arg("--json")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["ok"], true, "{report:#}");
    let store = &report["stores"][0];
    assert_eq!(store["records"], 150, "{report:#}");
    assert_eq!(store["lastSeq"], 150, "{report:#}");
    assert_eq!(store["lastCheckpointSeq"], 150, "{report:#}");
    assert_eq!(store["checkpoints"], 1, "{report:#}");
}
