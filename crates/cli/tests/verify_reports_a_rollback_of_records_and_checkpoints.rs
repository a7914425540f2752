//! The attacker without the key removes the newest records together with the
//! checkpoints that vouch for them, keeping a consistent prefix of both. `verify`
//! with the trusted key fails with `rolled-back` (the signed high-water mark in the
//! data dir recorded a later checkpoint), and the server refuses to start on it.
//! (Case `tamper-02-rollback-passes-verify`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::keep_records_upto;
use tamper_support::*;

#[test]
fn a_rollback_to_an_earlier_checkpoint_is_reported_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "the untouched store verifies: {report:#}");

    let (k, seq) = marked(dir.path());
    assert_eq!(seq, 50);
    // Keep the checkpoints that vouch for at most 30 records, and the records up to
    // the last of them.
    let log = store.join("checkpoints.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["chainSeq"]
                .as_u64()
                .unwrap()
                <= 30
        })
        .collect();
    let last: serde_json::Value = serde_json::from_str(kept.last().unwrap()).unwrap();
    let (kept_index, kept_seq) = (
        last["checkpoint"].as_u64().unwrap(),
        last["chainSeq"].as_u64().unwrap(),
    );
    std::fs::write(
        &log,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    keep_records_upto(&store, kept_seq);

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    let rolled = problems
        .iter()
        .find(|p| p["kind"] == "rolled-back")
        .unwrap_or_else(|| panic!("{report:#}"));
    let msg = rolled["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("checkpoint #{k} at chainSeq 50"))
            && msg.contains(&format!("ends at checkpoint #{kept_index}")),
        "{msg}"
    );
    assert_eq!(rolled["lastSeq"], 50, "{rolled}");

    let (code, log) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("the server started on a rolled-back store");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    assert!(
        log.contains(&format!("checkpoint #{k} at chainSeq 50")),
        "{log}"
    );
}
