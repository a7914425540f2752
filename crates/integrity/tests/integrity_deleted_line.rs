//! A deleted record line is a gap naming the missing chainSeq and the place it was cut
//! from (among the files that could have held it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build, edit_lines, only_error};

#[test]
fn a_deleted_line_is_a_gap_of_exactly_that_record_with_its_file_among_the_candidates() {
    let fx = build(2000);
    let (path, idx) = fx.locate(777);
    edit_lines(&path, |lines| {
        lines.remove(idx);
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::MissingRecords);
    assert_eq!((p.first_seq, p.last_seq), (Some(777), Some(777)));
    // The record sat before what is now line idx+1 of that file.
    let place = format!("{}:{}", fx.rel(&path), idx + 1);
    let named = p.candidates.contains(&place)
        || (p.file.as_deref() == Some(fx.rel(&path).as_str()) && p.line == Some(idx as u64 + 1));
    assert!(named, "{place} not named:\n{report}");
}

#[test]
fn in_a_single_partition_store_the_deleted_line_is_named_exactly() {
    let fx = integrity_support::build_single_partition(500);
    let (path, idx) = fx.locate(250);
    edit_lines(&path, |lines| {
        lines.remove(idx);
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::MissingRecords);
    assert_eq!(p.file.as_deref(), Some(fx.rel(&path).as_str()));
    assert_eq!(p.line, Some(idx as u64 + 1));
    assert!(p.message.contains("deleted from"), "{}", p.message);
}
