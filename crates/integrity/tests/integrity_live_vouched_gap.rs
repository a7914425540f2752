//! `verify --live` keeps tamper detection for what is signed: records missing at or
//! below a checkpoint's chainSeq are an error even on a running server (the checkpoint,
//! read before the walk, vouches that they were in the files).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::{ProblemKind, Severity};
use integrity_support::{build, keep_checkpoints_up_to, remove_records, verify_live};

#[test]
fn a_record_missing_below_the_last_checkpoint_is_an_error_with_live() {
    let fx = build(2000);
    keep_checkpoints_up_to(&fx.store, 1500);
    remove_records(&fx, 777..=777);
    let report = verify_live(&fx, true);
    assert!(!report.ok, "{report}");
    let missing: Vec<_> = report
        .problems()
        .filter(|p| p.kind == ProblemKind::MissingRecords)
        .collect();
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0].severity, Severity::Error, "{report}");
    assert_eq!(
        (missing[0].first_seq, missing[0].last_seq),
        (Some(777), Some(777))
    );
}

#[test]
fn a_gap_across_the_last_checkpoint_is_an_error_up_to_it_and_a_warning_above_with_live() {
    let fx = build(2000);
    keep_checkpoints_up_to(&fx.store, 1500);
    let report = verify_live(&fx, true);
    assert!(report.ok, "{report}");
    let vouched = report.stores[0].last_checkpoint_seq.unwrap();
    remove_records(&fx, vouched - 9..=vouched + 10);
    let report = verify_live(&fx, true);
    assert!(!report.ok, "{report}");
    let missing: Vec<_> = report
        .problems()
        .filter(|p| p.kind == ProblemKind::MissingRecords)
        .map(|p| (p.severity, p.first_seq, p.last_seq))
        .collect();
    assert_eq!(
        missing,
        vec![
            (Severity::Error, Some(vouched - 9), Some(vouched)),
            (Severity::Warning, Some(vouched + 1), Some(vouched + 10)),
        ],
        "{report}"
    );
    // The checkpoint at the end of the error part vouches for a record now missing:
    // said on that range's problem, not as an error of its own.
    let error_part = report
        .problems()
        .find(|p| p.kind == ProblemKind::MissingRecords && p.severity == Severity::Error)
        .unwrap();
    assert!(
        error_part.message.contains("vouches for one of them"),
        "{report}"
    );
    assert!(
        !report
            .problems()
            .any(|p| p.kind == ProblemKind::CheckpointMismatch),
        "{report}"
    );
}
