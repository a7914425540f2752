//! `verify --live` on a running server: records missing above the last checkpoint read
//! before the walk (a batch being appended over several partition files, read one after
//! another) are a warning, not a tamper alarm; without `--live` they stay an error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::{ProblemKind, Severity};
use integrity_support::{build, keep_checkpoints_up_to, remove_records, verify_live};

#[test]
fn records_missing_above_the_last_checkpoint_are_a_warning_with_live_and_an_error_without() {
    let fx = build(2000);
    // The server has stored up to 2000 but signed only up to 1500, and the walk did not
    // see 1801..1850 (their batch was still landing in files it had read already).
    keep_checkpoints_up_to(&fx.store, 1500);
    remove_records(&fx, 1801..=1850);

    let live = verify_live(&fx, true);
    let vouched = live.stores[0].last_checkpoint_seq.unwrap();
    assert!(vouched < 1801, "{live}");
    assert!(live.ok, "--live must pass:\n{live}");
    let missing: Vec<_> = live
        .problems()
        .filter(|p| p.kind == ProblemKind::MissingRecords)
        .collect();
    assert_eq!(missing.len(), 1, "{live}");
    assert_eq!(missing[0].severity, Severity::Warning, "{live}");
    assert_eq!(
        (missing[0].first_seq, missing[0].last_seq),
        (Some(1801), Some(1850))
    );
    assert!(
        missing[0].message.contains("--live"),
        "{}",
        missing[0].message
    );
    assert!(
        live.problems().all(|p| p.severity == Severity::Warning),
        "{live}"
    );

    let closed = verify_live(&fx, false);
    assert!(!closed.ok, "{closed}");
    assert!(
        closed
            .problems()
            .any(|p| p.kind == ProblemKind::MissingRecords
                && p.severity == Severity::Error
                && (p.first_seq, p.last_seq) == (Some(1801), Some(1850))),
        "{closed}"
    );
}
