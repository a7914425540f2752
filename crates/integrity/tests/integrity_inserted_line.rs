//! A forged line inserted into a record file (re-using a chainSeq, as it must to fit in
//! the chain) is reported as inserted, at its own line, with the genuine record named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build, edit_lines, only_error};

#[test]
fn a_forged_line_with_a_copied_chain_link_is_an_inserted_record_at_its_line() {
    let fx = build(2000);
    let (path, idx) = fx.locate(1500);
    edit_lines(&path, |lines| {
        // Copy the genuine line (chain fields included) and change what it says.
        let text = String::from_utf8(lines[idx].clone()).unwrap();
        let forged = text.replace("user-1500", "admin-999");
        lines.insert(idx + 1, forged.into_bytes());
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::InsertedRecord);
    assert_eq!(p.file.as_deref(), Some(fx.rel(&path).as_str()));
    assert_eq!(p.line, Some(idx as u64 + 2));
    assert_eq!(p.first_seq, Some(1500));
    assert!(
        p.message
            .contains(&format!("{}:{}", fx.rel(&path), idx + 1)),
        "{}",
        p.message
    );
}

#[test]
fn a_forged_line_placed_before_the_genuine_one_is_still_the_one_reported() {
    let fx = build(1000);
    let (path, idx) = fx.locate(600);
    edit_lines(&path, |lines| {
        let text = String::from_utf8(lines[idx].clone()).unwrap();
        lines.insert(idx, text.replace("user-600", "user-601").into_bytes());
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::InsertedRecord);
    assert_eq!(p.line, Some(idx as u64 + 1));
}
