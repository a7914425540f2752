//! A deleted partition file: its records are reported missing, and the report names
//! the segment file that held them (segment names carry their first chainSeq).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build, errors, record_files};

#[test]
fn a_deleted_segment_file_is_named_and_its_records_reported_missing() {
    let fx = build(2000);
    let files = record_files(&fx.store);
    let victim = files[files.len() / 2].clone();
    let name = victim.file_name().unwrap().to_string_lossy().into_owned();
    let first: u64 = name.trim_end_matches(".jsonl").parse().unwrap();
    let records = std::fs::read(&victim)
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    std::fs::remove_file(&victim).unwrap();
    let report = fx.verify();
    assert!(!report.ok);
    let errs = errors(&report);
    assert!(
        errs.iter().all(|e| e.0 == ProblemKind::MissingRecords),
        "{report}"
    );
    let gaps: Vec<_> = report
        .problems()
        .filter(|p| p.kind == ProblemKind::MissingRecords)
        .collect();
    let missing: u64 = gaps
        .iter()
        .map(|p| p.last_seq.unwrap() - p.first_seq.unwrap() + 1)
        .sum();
    assert_eq!(missing, records as u64, "{report}");
    // The first gap starts at the deleted segment's first record and names the file.
    assert_eq!(gaps[0].first_seq, Some(first));
    assert!(gaps[0].message.contains(&name), "{}", gaps[0].message);
}
