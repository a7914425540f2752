//! Receipts: each batch's receipt verifies against the store; a receipt for records
//! that were later removed or rewritten fails, and so does an edited receipt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::{receipts::read_receipts, VerifyOptions};
use integrity_support::{build, edit_lines};

fn options(
    fx: &integrity_support::Fixture,
    receipts: Vec<(String, auditrail_integrity::Receipt)>,
) -> VerifyOptions {
    VerifyOptions {
        public_key: Some(fx.public_key),
        receipts,
        ..VerifyOptions::default()
    }
}

#[test]
fn receipts_saved_as_files_verify() {
    let fx = build(1000);
    // As a node would save them: the 200 answer with its `receipt` field, one per line.
    let file = fx.dir.path().join("receipts.jsonl");
    let lines: Vec<String> = fx
        .receipts
        .iter()
        .map(|r| serde_json::json!({"accepted": 100, "duplicates": 0, "receipt": r}).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let receipts = read_receipts(&file).unwrap().receipts;
    assert_eq!(receipts.len(), 10);
    let report = fx.verify_with(options(&fx, receipts));
    assert!(report.ok, "{report}");
    assert!(report.receipts.iter().all(|r| r.ok));
}

#[test]
fn a_receipt_for_events_that_were_later_removed_fails_and_others_still_hold() {
    let fx = build(1000);
    // Remove one event of the 4th batch (chainSeq 301..400).
    let (path, idx) = fx.locate(350);
    edit_lines(&path, |lines| {
        lines.remove(idx);
    });
    let all: Vec<_> = fx
        .receipts
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("batch {i}"), r.clone()))
        .collect();
    let report = fx.verify_with(options(&fx, all));
    assert!(!report.ok);
    let failed: Vec<_> = report.receipts.iter().filter(|r| !r.ok).collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!((failed[0].first_seq, failed[0].last_seq), (301, 400));
    assert!(
        failed[0].reasons.iter().any(|r| r.contains("350")),
        "{:?}",
        failed[0].reasons
    );
}

#[test]
fn a_receipt_beyond_a_truncated_store_fails() {
    let fx = build(1000);
    let last = fx.receipts.last().unwrap().clone();
    // Drop the newest records (and the checkpoints vouching for them): what a
    // rollback by an attacker holding the key would look like.
    let (path, idx) = fx.locate(950);
    edit_lines(&path, |lines| lines.truncate(idx));
    for seq in 951..=1000 {
        let (p, i) = fx.locate(seq);
        edit_lines(&p, |lines| {
            lines.remove(i);
        });
    }
    let report = fx.verify_with(options(&fx, vec![("last".into(), last)]));
    assert!(!report.receipts[0].ok, "{report}");
    assert!(
        report.receipts[0].reasons[0].contains("gone"),
        "{:?}",
        report.receipts[0].reasons
    );
}

#[test]
fn an_edited_receipt_fails_its_signature() {
    let fx = build(300);
    let mut r = fx.receipts[0].clone();
    r.first_seq = 2;
    let report = fx.verify_with(options(&fx, vec![("edited".into(), r)]));
    assert!(!report.receipts[0].ok);
    assert!(report.receipts[0]
        .reasons
        .iter()
        .any(|x| x.contains("signature")));
}
