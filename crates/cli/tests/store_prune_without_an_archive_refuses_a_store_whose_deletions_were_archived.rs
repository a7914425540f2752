//! A store whose deletions were archived (against a real S3-compatible server,
//! `s3s-fs`): its signed checkpoint log names the archive. Pruned by hand without it
//! (`store prune --data-dir`, the config and its `archive` forgotten), the prune
//! deleted the partitions with no copy, for good, without a word. It is now refused,
//! naming the archive and what to give, and deletes nothing; `--no-archive` deletes
//! without a copy when that is what the operator wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;

use retention_support::days;

#[test]
fn the_prune_names_the_archive_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_s3, store) = s3_support::store_of_two_days_archiving(dir.path());
    // Retention so far: each deletion archived first.
    let (code, out) = crate::retention_support::prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(days(&store), ["2025/01/02"]);

    let by_hand = [
        "store",
        "prune",
        "--data-dir",
        "data",
        "--before",
        "2025-01-03",
    ];
    let (code, out) = s3_support::run(dir.path(), &by_hand);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("its deletions were archived to s3://audit/eu-1/store")
            && out.contains("--no-archive"),
        "{out}"
    );
    assert_eq!(days(&store), ["2025/01/02"], "{out}");

    let (code, out) = s3_support::run(dir.path(), &[&by_hand[..], &["--no-archive"]].concat());
    assert_eq!(code, 0, "{out}");
    // The newest record's partition is never deleted.
    assert!(out.contains("deleted 1 partition ("), "{out}");
}
