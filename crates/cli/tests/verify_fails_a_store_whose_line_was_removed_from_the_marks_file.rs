//! Each store's high-water mark is a signed line of its own in the data dir's
//! `high-water.jsonl`. An attacker without the key rolls one store back (the newest
//! records and the checkpoint lines that vouch for them, removed together) and removes
//! that store's line from the marks file, leaving the other store's line. The server
//! refuses the store ("no high-water mark for this store": it holds it, and serves the
//! other), but `verify DATA_DIR` only
//! warned and printed "verdict: OK" (exit 0). A store with records or checkpoints and no
//! line in the marks file found is now an error (`high-water-mark`), as the server's
//! refusal. (Tryout script `tamper/02-mark-line-removed-hides-rollback`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::keep_records_upto;
use tamper_support::*;

#[test]
fn a_rollback_with_the_stores_mark_line_removed_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let key = two_stores(dir.path());
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "the untouched data dir verifies: {report:#}");

    // Store b back to its first checkpoint (chainSeq 5 of 10).
    let store = dir.path().join("data/b");
    let log = store.join("checkpoints.jsonl");
    let first = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first.contains("\"chainSeq\":5,"), "{first}");
    std::fs::write(&log, format!("{first}\n")).unwrap();
    keep_records_upto(&store, 5);
    let marks = dir.path().join("data/high-water.jsonl");
    let kept: String = std::fs::read_to_string(&marks)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"store\":\"b\""))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept.lines().count(), 1, "{kept}");
    std::fs::write(&marks, kept).unwrap();

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let b = store_named(&report, "b");
    let problem = b["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "high-water-mark")
        .unwrap_or_else(|| panic!("{b:#}"));
    assert_eq!(problem["severity"], "error", "{problem:#}");
    assert!(
        problem["message"].as_str().unwrap().contains(
            "has no high-water mark for this store, which has 5 records and 1 checkpoint:"
        ),
        "{problem:#}"
    );
    assert_eq!(
        store_named(&report, "a")["problems"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "{report:#}"
    );

    // The server refuses the same store: it holds it (the other store serves).
    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| {
        panic!("one store's damage stopped the server ({code}): {log}")
    });
    let log = server.stderr();
    assert!(
        log.contains("store held") && log.contains("no high-water mark for this store"),
        "{log}"
    );
    assert_eq!(stop(server), 0);
}
