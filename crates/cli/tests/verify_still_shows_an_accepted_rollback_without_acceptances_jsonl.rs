//! A store is rolled back (its newest records and the checkpoints vouching for them
//! removed: an attacker, or an older backup restored); the server refuses it, and an
//! operator runs `auditrail store accept`. The acceptance is a signed line of the
//! store's checkpoint log, so whoever can write the data dir but has no key cannot
//! hide it by removing `<data dir>/acceptances.jsonl`: `verify` still reports the
//! `accepted-state`, with what the high-water mark had recorded before (the
//! checkpoints given up). (Case `srv2-01-acceptance-deleted-hides-rollback`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_integrity::high_water::ACCEPTANCES_FILE;
use tamper_support::*;

#[test]
fn removing_acceptances_jsonl_leaves_the_accepted_rollback_in_the_verify_report() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (marked_index, marked_seq) = marked(dir.path());
    assert_eq!(marked_seq, 50);
    let (kept_index, kept_seq) = roll_back(&store, 30);
    assert!(
        try_start(dir.path()).is_err(),
        "refused before the acceptance"
    );

    let (code, out) = accept(dir.path(), "restored from the backup of monday");
    assert_eq!(code, 0, "{out}");
    let server = try_start(dir.path()).unwrap_or_else(|(c, l)| panic!("exit {c}: {l}"));
    post_ten(&server, 61);
    assert_eq!(stop(server), 0);

    std::fs::remove_file(dir.path().join("data").join(ACCEPTANCES_FILE)).unwrap();
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "an accepted state is a warning: {report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    let accepted: Vec<_> = problems
        .iter()
        .filter(|p| p["kind"] == "accepted-state")
        .collect();
    assert_eq!(accepted.len(), 1, "{report:#}");
    let p = accepted[0];
    assert_eq!(p["severity"], "warning");
    assert_eq!(p["file"], "checkpoints.jsonl");
    assert_eq!(
        p["line"],
        kept_index + 1,
        "the line after the kept ones: {p}"
    );
    let msg = p["message"].as_str().unwrap();
    assert!(msg.contains("restored from the backup of monday"), "{msg}");
    assert!(
        msg.contains(&format!(
            "the high-water mark had recorded checkpoint #{marked_index} at chainSeq 50"
        )) && msg.contains(&format!(
            "the log ended at checkpoint #{kept_index} (chainSeq {kept_seq})"
        )),
        "{msg}"
    );
    assert_eq!(p["firstSeq"], kept_seq + 1, "{p}");
    assert_eq!(p["lastSeq"], 50, "{p}");
}
