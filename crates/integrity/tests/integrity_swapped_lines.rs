//! Two swapped lines in a record file are reported as reordered at the line that is out
//! of order, and nothing else (the content is intact).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build, edit_lines, only_error};

#[test]
fn swapped_lines_are_one_reordering_at_the_second_line() {
    let fx = build(2000);
    let (path, idx) = fx.locate(1000);
    edit_lines(&path, |lines| lines.swap(idx, idx + 1));
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::Reordered);
    assert_eq!(p.file.as_deref(), Some(fx.rel(&path).as_str()));
    assert_eq!(p.line, Some(idx as u64 + 2));
    assert!(p.message.contains("chainSeq 1000"), "{}", p.message);
}
