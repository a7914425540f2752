//! The checkpoint log: removing its tail leaves records no signature vouches for;
//! removing a checkpoint in the middle breaks the link of the next one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::{ProblemKind, VerifyOptions};
use integrity_support::{build, edit_lines, errors, only_error};

#[test]
fn deleting_the_tail_of_the_checkpoint_log_leaves_records_uncovered() {
    let fx = build(2000);
    let log = fx.store.join("checkpoints.jsonl");
    let mut kept_seq = 0;
    edit_lines(&log, |lines| {
        lines.truncate(lines.len() - 2);
        let last: serde_json::Value = serde_json::from_slice(lines.last().unwrap()).unwrap();
        kept_seq = last["chainSeq"].as_u64().unwrap();
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::Uncovered);
    assert_eq!((p.first_seq, p.last_seq), (Some(kept_seq + 1), Some(2000)));
    // A live store may legitimately have an uncovered tail: then it is only a warning.
    let live = fx.verify_with(VerifyOptions {
        public_key: Some(fx.public_key),
        live: true,
        ..VerifyOptions::default()
    });
    assert!(live.ok, "{live}");
}

#[test]
fn deleting_a_checkpoint_in_the_middle_is_named_by_the_next_ones_line() {
    let fx = build(2000);
    let log = fx.store.join("checkpoints.jsonl");
    edit_lines(&log, |lines| {
        lines.remove(1);
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::CheckpointChain);
    assert_eq!(
        (p.file.as_deref(), p.line),
        (Some("checkpoints.jsonl"), Some(2))
    );
    assert!(p.message.contains("#2..#2 were removed"), "{}", p.message);
}

#[test]
fn editing_a_checkpoint_breaks_its_signature() {
    let fx = build(1000);
    let log = fx.store.join("checkpoints.jsonl");
    edit_lines(&log, |lines| {
        let t = String::from_utf8(lines[0].clone()).unwrap();
        lines[0] = t
            .replace("\"chainSeq\":500", "\"chainSeq\":499")
            .into_bytes();
    });
    let report = fx.verify();
    let errs = errors(&report);
    assert!(
        errs.contains(&(
            ProblemKind::BadSignature,
            Some("checkpoints.jsonl".into()),
            Some(1)
        )),
        "{report}"
    );
}
