//! An operator accepted records written while the server was stopped (`auditrail store
//! accept`). Before the server is started again, someone who can write the data folder
//! removes them. No checkpoint line vouches for them yet (the acceptance's own chainSeq
//! repeats the line before it), but the acceptance recorded the head it accepted:
//! verify reports the store as cut below it (`truncated`, at the acceptance's line),
//! and the next start refuses instead of signing the shorter store as if whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::{append_chained, keep_records_upto};
use tamper_support::*;

#[test]
fn accepted_records_removed_before_the_next_start_are_reported_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let log = store.join("checkpoints.jsonl");
    let (_, seq) = append_chained(&store, |body| {
        body.replace("\"seq\":50", "\"seq\":51")
            .replacen("-000000000032\"", "-000000000666\"", 1)
    });
    assert_eq!(seq, 51);
    let (code, out) = accept(dir.path(), "record 51 checked with its sender");
    assert_eq!(code, 0, "{out}");
    let accept_line = log_lines(&store).len() as u64;

    keep_records_upto(&store, 50);

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let found: Vec<_> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "truncated" && p["line"] == accept_line)
        .collect();
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(
        (&found[0]["firstSeq"], &found[0]["lastSeq"]),
        (&51.into(), &51.into()),
        "{report:#}"
    );

    let log_before = std::fs::read(&log).unwrap();
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("the server started on a store cut below the head accepted");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    for what in [
        store.display().to_string(),
        "accepted it up to chainSeq 51".to_string(),
        "chainSeq 51..51 were removed".to_string(),
        "auditrail store accept".to_string(),
    ] {
        assert!(err.contains(&what), "the refusal names {what:?}: {err}");
    }
    assert_eq!(std::fs::read(&log).unwrap(), log_before, "nothing signed");
}
