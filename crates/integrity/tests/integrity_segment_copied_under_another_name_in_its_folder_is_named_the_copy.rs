//! A segment copied under another name in its own folder (`cp 0…1.jsonl 0…2.jsonl`, or
//! a later name): every record is there twice, byte for byte, both in the right folder.
//! Verify reports `duplicate-record` for each, but which file it called "a copy of"
//! the other varied record by record (the merge hands the two files over in turn), so
//! half of its lines named the genuine segment as the copy (an operator removing what
//! verify names as copies would remove genuine records). The original is now the
//! segment named by its first record's chainSeq, as the store names every segment, for
//! every record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::path::{Path, PathBuf};

use integrity_support::build_single_partition;

/// The file named `name` below `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find(&p, name) {
                return Some(f);
            }
        } else if e.file_name() == name {
            return Some(p);
        }
    }
    None
}

#[test]
fn every_duplicate_record_names_the_copy_under_the_other_name() {
    for copy_name in ["00000000000000000002.jsonl", "00000000000000000099.jsonl"] {
        // One partition folder; 8 records fit one segment.
        let fx = build_single_partition(8);
        let original = find(&fx.store, "00000000000000000001.jsonl").unwrap();
        let copy = original.with_file_name(copy_name);
        std::fs::copy(&original, &copy).unwrap();
        let rel = |p: &Path| {
            p.strip_prefix(&fx.store)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        let (original, copy) = (rel(&original), rel(&copy));

        let report = fx.verify();
        let copies: Vec<_> = report
            .problems()
            .filter(|p| p.kind.name() == "duplicate-record")
            .collect();
        let records = std::fs::read_to_string(fx.store.join(&original))
            .unwrap()
            .lines()
            .count();
        assert!(records > 1, "{report}");
        assert_eq!(copies.len(), records, "{report}");
        for p in &copies {
            assert_eq!(
                p.file.as_deref(),
                Some(copy.as_str()),
                "{copy_name}: {report}"
            );
            assert!(
                p.message
                    .contains(&format!("a copy of the record at {original}:")),
                "{}",
                p.message
            );
        }
    }
}
