//! `verify --live`: a record file removed after verify listed the files and before it
//! read them (by anyone: no deletion is recorded) is a tamper finding, reported as
//! what it is, the file's records missing, by a second walk; not as a file that could
//! not be opened (what a walk that raced with the removal sees).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::path::PathBuf;
use std::sync::Mutex;

use auditrail_integrity::verify::{self, ProblemKind, Progress, Severity, VerifyOptions};
use integrity_support::build;

/// Removes `file` (once) when verify starts walking the store's files.
struct RemoveWhenTheWalkStarts {
    file: Mutex<Option<PathBuf>>,
}

impl Progress for RemoveWhenTheWalkStarts {
    fn start(&self, _total_bytes: u64) {
        if let Some(f) = self.file.lock().unwrap().take() {
            std::fs::remove_file(f).unwrap();
        }
    }
}

#[test]
fn a_file_removed_during_a_live_walk_is_reported_as_its_records_missing() {
    let fx = build(3000);
    let (path, _) = fx.locate(1200);
    let rel = fx.rel(&path);
    let progress = RemoveWhenTheWalkStarts {
        file: Mutex::new(Some(path.clone())),
    };
    let options = VerifyOptions {
        public_key: Some(fx.public_key),
        live: true,
        ..VerifyOptions::default()
    };
    let report = verify::verify(&fx.data_dir, &options, &progress).unwrap();
    assert!(!path.exists(), "the file was removed during the walk");
    assert!(!report.ok, "{report}");
    let errors: Vec<_> = report
        .problems()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert!(
        errors.iter().all(|p| p.kind != ProblemKind::Unreadable),
        "a removed file is not an unreadable one:\n{report}"
    );
    let missing: Vec<_> = errors
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingRecords)
        .collect();
    assert!(
        missing.iter().any(
            |p| p.first_seq.is_some_and(|f| f <= 1200) && p.last_seq.is_some_and(|l| l >= 1200)
        ),
        "record 1200, in {rel}, is reported missing:\n{report}"
    );
}
