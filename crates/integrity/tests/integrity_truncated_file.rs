//! A cut record file: the torn last line is reported at its line, and the records cut
//! away are reported missing (vouched for by a checkpoint when the cut is at the end of
//! the chain).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use integrity_support::{build, errors, record_files};

fn cut(path: &std::path::Path, keep: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(keep).unwrap();
}

#[test]
fn cutting_the_newest_file_mid_line_is_a_torn_tail_and_a_truncation_below_the_checkpoint() {
    let fx = build(2000);
    let (path, idx) = fx.locate(2000);
    // Keep the lines before 1999's and half of that line: records after it are gone.
    let text = std::fs::read(&path).unwrap();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            text.iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let cut_at = starts[idx] + 40;
    cut(&path, cut_at as u64);
    let report = fx.verify();
    assert!(!report.ok);
    let errs = errors(&report);
    let rel = fx.rel(&path);
    assert!(
        errs.contains(&(
            ProblemKind::TornTail,
            Some(rel.clone()),
            Some(idx as u64 + 1)
        )),
        "{report}"
    );
    let truncated: Vec<_> = report
        .problems()
        .filter(|p| p.kind == ProblemKind::Truncated)
        .collect();
    assert_eq!(truncated.len(), 1, "{report}");
    assert_eq!(truncated[0].last_seq, Some(2000));
    assert_eq!(truncated[0].file.as_deref(), Some("checkpoints.jsonl"));
}

#[test]
fn cutting_an_older_file_is_a_torn_tail_and_a_gap_of_the_records_cut() {
    let fx = build(2000);
    let files = record_files(&fx.store);
    // An older segment with several lines: cut it in its third line.
    let path = files
        .iter()
        .find(|p| {
            std::fs::read(p)
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                > 4
        })
        .unwrap()
        .clone();
    let text = std::fs::read(&path).unwrap();
    let nl: Vec<usize> = text
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i)
        .collect();
    cut(&path, (nl[1] + 30) as u64);
    let report = fx.verify();
    let errs = errors(&report);
    let rel = fx.rel(&path);
    assert!(
        errs.contains(&(ProblemKind::TornTail, Some(rel.clone()), Some(3))),
        "{report}"
    );
    assert!(
        errs.iter().any(|e| e.0 == ProblemKind::MissingRecords),
        "{report}"
    );
    assert!(
        errs.iter()
            .all(|e| matches!(e.0, ProblemKind::TornTail | ProblemKind::MissingRecords)),
        "{report}"
    );
}

#[test]
fn a_half_written_last_line_is_a_warning_only_for_a_live_store() {
    let fx = build(500);
    let (path, _) = fx.locate(500);
    // What a reader can see while the server is appending.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"clientEvent\":{\"id\":\"0193").unwrap();
    let closed = fx.verify();
    assert!(
        errors(&closed).contains(&(
            ProblemKind::TornTail,
            Some(fx.rel(&path)),
            Some(
                std::fs::read(&path)
                    .unwrap()
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64
                    + 1
            )
        )),
        "{closed}"
    );
    let live = fx.verify_with(auditrail_integrity::verify::VerifyOptions {
        public_key: Some(fx.public_key),
        live: true,
        ..Default::default()
    });
    assert!(live.ok, "{live}");
    assert!(live.problems().any(|p| p.kind == ProblemKind::TornTail));
}
