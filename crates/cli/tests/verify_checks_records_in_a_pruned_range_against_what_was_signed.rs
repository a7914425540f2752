//! Records found in a chain range that a signed deletion line records as deleted are
//! checked against what was signed for them (the chain hashes of the checkpoints, the
//! Merkle subtrees the deletion line kept): the files an interrupted prune left are
//! warned about and pass; records fabricated there (chained from zeros, as anyone can)
//! are errors naming their file and lines, and so are records that nothing signed
//! can confirm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::retention_support::{prune, store_of_two_days};
use crate::tamper_support::{error_kinds, verify};
use auditrail_store::chain::Chain;

/// Problems of the first store of a JSON report: (severity, kind, file, line, message).
fn problems(report: &serde_json::Value) -> Vec<(String, String, String, u64, String)> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["severity"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
                p["file"].as_str().unwrap_or("").to_string(),
                p["line"].as_u64().unwrap_or(0),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Copies the segment files of `from` below `rel` (a day folder of each topic) back
/// into `store`.
fn put_back(from: &Path, store: &Path, day: &str) {
    for file in auditrail_testkit::store::record_files(from) {
        let rel = file.strip_prefix(from).unwrap();
        if rel.to_string_lossy().contains(day) {
            let target = store.join(rel);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&file, &target).unwrap();
        }
    }
}

#[test]
fn records_in_a_pruned_range_are_checked_against_what_was_signed() {
    let dir = tempfile::tempdir().unwrap();
    // chainSeq 1..5 on 2025-01-01 (topics alternating), 6..10 on 2025-01-02.
    let store = store_of_two_days(dir.path(), "");
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    let before = dir.path().join("before-prune");
    crate::tamper_support::copy_records(&store, &before);
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    let (code, report) = verify(dir.path(), key);
    assert_eq!(code, 0, "{report:#}");

    // The files of an interrupted prune (all of them back): a warning, and it passes.
    put_back(&before, &store, "2025/01/01");
    let (code, report) = verify(dir.path(), key);
    assert_eq!(code, 0, "{report:#}");
    let found = problems(&report);
    assert!(
        found
            .iter()
            .any(|p| p.0 == "warning" && p.1 == "deletion-incomplete" && p.4.contains("5 records")),
        "{report:#}"
    );

    // Only one topic's file back (chainSeq 1, 3, 5: their neighbours gone): nothing
    // signed confirms them, so they are not passed as genuine.
    let day1: Vec<_> = auditrail_testkit::store::record_files(&store)
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("2025/01/01"))
        .collect();
    assert_eq!(day1.len(), 2, "{day1:?}");
    let generic = day1
        .iter()
        .find(|f| f.to_string_lossy().contains("/generic/"))
        .unwrap();
    std::fs::remove_file(generic).unwrap();
    let (code, report) = verify(dir.path(), key);
    assert_eq!(code, 1, "{report:#}");
    let found = problems(&report);
    assert!(
        found.iter().any(|p| p.0 == "error"
            && p.1 == "deletion-incomplete"
            && p.2.starts_with("authfail/")
            && p.4.contains("nothing signed confirms")),
        "{report:#}"
    );
    for f in &day1 {
        let _ = std::fs::remove_file(f);
    }
    let (code, report) = verify(dir.path(), key);
    assert_eq!(code, 0, "{report:#}");

    // Fabricated records 1..4 (a login of "mallory"), chained from zeros, in a folder
    // of their own.
    let folder = store.join("generic/_none/2024/12/31");
    std::fs::create_dir_all(&folder).unwrap();
    let mut chain = Chain::genesis();
    let mut out = Vec::new();
    for seq in 1..=4u64 {
        let body = format!(
            r#"{{"clientEvent":{{"id":"deadbeef-0000-7000-8000-{seq:012}","timestamp":"2024-12-31T09:00:00.000Z","topic":"generic","node":"n1","seq":{seq},"message":{{"msgType":"login","authUser":"mallory"}}}},"origAddress":"127.0.0.1","serverTimestamp":"2024-12-31T09:00:00.001Z","keyId":null"#
        );
        chain.seal(body.as_bytes(), &mut out);
    }
    let forged = folder.join("00000000000000000001.jsonl");
    std::fs::write(&forged, out).unwrap();
    let (code, report) = verify(dir.path(), key);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        error_kinds(&report).contains(&"inserted-record".to_string()),
        "{report:#}"
    );
    let found = problems(&report);
    let p = found
        .iter()
        .find(|p| p.1 == "inserted-record")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(p.2, "generic/_none/2024/12/31/00000000000000000001.jsonl");
    assert_eq!(p.3, 1);
    assert!(
        p.4.contains("chainSeq 1..4 (4 records, lines 1..4)")
            && p.4.contains("forged or changed")
            && p.4.contains("Merkle subtree"),
        "{}",
        p.4
    );
    assert!(
        !found
            .iter()
            .any(|p| p.0 == "warning" && p.1 == "deletion-incomplete"),
        "the forged records are no interrupted prune's: {report:#}"
    );
}
