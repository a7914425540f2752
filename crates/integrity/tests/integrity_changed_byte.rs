//! One flipped byte in a stored record is reported as that record, at its file and line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build, edit_lines, only_error};

#[test]
fn a_flipped_byte_in_a_record_body_is_a_changed_record_at_its_line() {
    let fx = build(2000);
    let (path, idx) = fx.locate(1234);
    edit_lines(&path, |lines| {
        // "user-1234" -> "user-1235": the attacker's edit keeps the line valid JSON.
        let line = &mut lines[idx];
        let at = line.windows(9).position(|w| w == b"user-1234").unwrap();
        line[at + 8] ^= 0x01;
    });
    let report = fx.verify();
    assert!(!report.ok);
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::ChangedRecord);
    assert_eq!(p.file.as_deref(), Some(fx.rel(&path).as_str()));
    assert_eq!(p.line, Some(idx as u64 + 1));
    assert_eq!((p.first_seq, p.last_seq), (Some(1234), Some(1234)));
}

#[test]
fn a_flipped_byte_in_a_records_chain_hash_is_reported_once_at_that_record() {
    let fx = build(1000);
    let (path, idx) = fx.locate(321);
    edit_lines(&path, |lines| {
        let line = &mut lines[idx];
        let n = line.len();
        // A hex digit inside "chainHash":"...": '0'..'9' and 'a'..'f' flip to another char.
        line[n - 10] = if line[n - 10] == b'a' { b'b' } else { b'a' };
    });
    let report = fx.verify();
    let p = only_error(&report);
    assert_eq!(p.kind, ProblemKind::ChangedRecord);
    assert_eq!(p.file.as_deref(), Some(fx.rel(&path).as_str()));
    assert_eq!(p.line, Some(idx as u64 + 1));
    assert_eq!(p.first_seq, Some(321));
}
