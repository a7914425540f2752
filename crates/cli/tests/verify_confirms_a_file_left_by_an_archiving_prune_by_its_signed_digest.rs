//! A prune with an archive (a real S3-compatible server, `s3s-fs`) killed while it
//! removes the partitions it archived leaves some of their files in the store, after
//! its signed deletion line. The records of such a file have lost the records next to
//! them in the chain, and `verify` failed the store (`deletion-incomplete` error: "left
//! by a prune interrupted while it removed files, or put there since, which cannot be
//! told apart") although the line signed that very file's SHA-256 and size when it
//! archived it. A file that still has them is now confirmed (a warning: still there,
//! the next prune removes it); one byte changed in it is an error again. The state a
//! kill leaves is made exactly: a pruned file put back from the archive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::s3_support;

#[test]
fn a_leftover_with_its_archived_digest_is_confirmed_and_a_changed_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, store) = s3_support::store_of_two_days_archiving(dir.path());
    let (code, out) = crate::retention_support::prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    // The first day's generic segment, as a kill during the removal leaves it: its
    // records interleave with the authfail partition's, removed.
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let line: serde_json::Value = log
        .lines()
        .rev()
        .find(|l| l.contains("\"archived\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap();
    let rel = line["deleted"]["archived"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap().to_string())
        .find(|p| p.starts_with("generic/"))
        .unwrap();
    let left = store.join(&rel);
    std::fs::create_dir_all(left.parent().unwrap()).unwrap();
    std::fs::copy(s3.object_file(&format!("eu-1/store/{rel}")), &left).unwrap();

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let verify = ["verify", "data", "--public-key", key.trim()];
    let (code, out) = s3_support::run(dir.path(), &verify);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning [deletion-incomplete]") && !out.contains("ERROR"),
        "{out}"
    );

    // Changed since it was archived: its digest no longer confirms it.
    let bytes = std::fs::read_to_string(&left).unwrap();
    assert!(bytes.contains("\"user"), "{bytes}");
    std::fs::write(&left, bytes.replacen("\"user", "\"usex", 1)).unwrap();
    let (code, out) = s3_support::run(dir.path(), &verify);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR"), "{out}");
}
