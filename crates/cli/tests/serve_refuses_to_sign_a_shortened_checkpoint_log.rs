//! The attacker without the key rewrites a record, recomputes the chain, and removes,
//! empties or cuts the tail of the checkpoint log. The server never signs over that:
//! its start is refused, naming what it found (the log against the signed high-water
//! mark kept in the data dir), and `verify` with the trusted key still fails.
//! (Case `tamper-01-resigned-after-restart`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use std::path::Path;

use auditrail_testkit::store::rewrite_and_rechain;
use tamper_support::*;

fn cut_log_to(store: &Path, keep_lines: usize) {
    let log = store.join("checkpoints.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let kept: String = text
        .lines()
        .take(keep_lines)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, kept).unwrap();
}

fn attack_then_expect_refusal(mutilate: impl Fn(&Path), what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (k, seq) = marked(dir.path());
    assert_eq!(seq, 50, "the last checkpoint vouches for every record");
    rewrite_and_rechain(&store, 20, "user20", "mallory");
    mutilate(&store);

    let (code, log) = match try_start(dir.path()) {
        Ok(server) => {
            server.terminate();
            panic!("{what}: the server started on a forged store");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0, "{what}");
    assert!(
        log.contains("high-water mark") && log.contains(&format!("checkpoint #{k} at chainSeq 50")),
        "{what}: the refusal names the mark and what it recorded: {log}"
    );
    assert!(
        log.contains("auditrail store accept"),
        "{what}: says how to proceed: {log}"
    );
    // Nothing was signed: verify with the trusted key still fails.
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{what}: {report:#}");
    assert!(
        error_kinds(&report).contains(&"rolled-back".to_string()),
        "{what}: {report:#}"
    );
    assert!(
        !store.join("checkpoints.jsonl").exists() || {
            let text = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
            text.lines().count() < k as usize
        },
        "{what}: no checkpoint was appended"
    );
}

#[test]
fn a_deleted_checkpoint_log_is_refused() {
    attack_then_expect_refusal(
        |store| std::fs::remove_file(store.join("checkpoints.jsonl")).unwrap(),
        "deleted",
    );
}

#[test]
fn an_emptied_checkpoint_log_is_refused() {
    attack_then_expect_refusal(|store| cut_log_to(store, 0), "emptied");
}

#[test]
fn a_checkpoint_log_cut_before_the_forged_record_is_refused() {
    attack_then_expect_refusal(|store| cut_log_to(store, 1), "tail cut");
}
