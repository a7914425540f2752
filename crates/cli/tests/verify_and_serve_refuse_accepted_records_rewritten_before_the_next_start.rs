//! An operator accepted a record written while the server was stopped (`auditrail
//! store accept`). The attacker, who can write the data folder but holds no key, then
//! rewrites that record (and rechains it) before the server is started again, so the
//! store still ends at the chain number accepted. The acceptance line records the
//! chain hash of the head it accepted: verify reports the rewrite against that line
//! (`checkpoint-mismatch`), and the next start refuses instead of signing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::{append_chained, rewrite_and_rechain};
use tamper_support::*;

#[test]
fn an_accepted_record_rewritten_before_the_next_start_is_reported_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let log = store.join("checkpoints.jsonl");
    let (_, seq) = append_chained(&store, |body| {
        body.replace("user50", "operator-checked")
            .replace("\"seq\":50", "\"seq\":51")
            .replacen("-000000000032\"", "-000000000666\"", 1)
    });
    assert_eq!(seq, 51);
    let (code, out) = accept(dir.path(), "record 51 checked with its sender");
    assert_eq!(code, 0, "{out}");
    let accept_line = log_lines(&store).len() as u64;

    rewrite_and_rechain(&store, 51, "operator-checked", "mallory");

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let found: Vec<_> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "checkpoint-mismatch" && p["line"] == accept_line)
        .collect();
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["firstSeq"], 51, "{report:#}");

    let log_before = std::fs::read(&log).unwrap();
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("the server started on an accepted record rewritten since");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    for what in [
        store.display().to_string(),
        "chainSeq 51".to_string(),
        "rewritten".to_string(),
        "auditrail store accept".to_string(),
    ] {
        assert!(err.contains(&what), "the refusal names {what:?}: {err}");
    }
    assert_eq!(std::fs::read(&log).unwrap(), log_before, "nothing signed");
}
