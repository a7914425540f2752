//! `auditrail store accept` writes its signed line into the checkpoint log first and
//! moves the high-water mark after it. Stopped between the two (a kill, a full disk),
//! it leaves a log whose last line is the acceptance of the state the mark refused,
//! and a mark that never moved to it. The next start then said "checkpoints were
//! removed (the log was shortened, emptied, deleted, or replaced by an older copy)",
//! which sends an operator after an attacker. It now says that the acceptance was
//! interrupted, and that running it again finishes it, which it does; `verify` says
//! the same (it said "the log was replaced").
//!
//! The interruption is made exactly: the marks and the acceptance history as they
//! were before the command are put back after it, which is what a kill right after
//! the log's line was fsynced leaves (the mark and the history are written after it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_integrity::high_water::{ACCEPTANCES_FILE, HIGH_WATER_FILE};
use tamper_support::*;

#[test]
fn an_interrupted_acceptance_is_named_and_running_it_again_lets_the_server_start() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    // The state to accept: the checkpoint log lost.
    std::fs::remove_file(store.join("checkpoints.jsonl")).unwrap();
    let (_, refused) = try_start(dir.path())
        .err()
        .expect("refused before the acceptance");
    assert!(refused.contains("checkpoints were removed"), "{refused}");

    let data = dir.path().join("data");
    let saved = |name: &str| std::fs::read(data.join(name)).ok();
    let (marks, history) = (saved(HIGH_WATER_FILE).unwrap(), saved(ACCEPTANCES_FILE));
    let (code, out) = accept(dir.path(), "checkpoint log lost with a disk");
    assert_eq!(code, 0, "{out}");
    std::fs::write(data.join(HIGH_WATER_FILE), marks).unwrap();
    match history {
        Some(h) => std::fs::write(data.join(ACCEPTANCES_FILE), h).unwrap(),
        None => std::fs::remove_file(data.join(ACCEPTANCES_FILE)).unwrap(),
    }

    let (_, refused) = try_start(dir.path())
        .err()
        .expect("the mark was never moved");
    assert!(
        refused.contains(
            "`auditrail store accept` stopped between writing its line and moving the mark"
        ) && refused.contains("run the acceptance again")
            && !refused.contains("checkpoints were removed"),
        "{refused}"
    );

    let (code, report) = verify(dir.path(), &key);
    assert_ne!(code, 0, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["severity"] == "error"
            && p["message"]
                .as_str()
                .unwrap()
                .contains("`auditrail store accept` stopped")),
        "{report:#}"
    );
    assert!(
        !problems.iter().any(|p| p["message"]
            .as_str()
            .unwrap()
            .contains("the log was replaced")),
        "{report:#}"
    );

    let (code, out) = accept(dir.path(), "checkpoint log lost with a disk");
    assert_eq!(code, 0, "{out}");
    let server = try_start(dir.path()).unwrap_or_else(|(c, l)| panic!("exit {c}: {l}"));
    assert_eq!(stop(server), 0);
}
