//! A prune whose segment's object name is already taken in the bucket (a real
//! S3-compatible server, `s3s-fs`) by other bytes: the pass refuses, naming the
//! archive, the object and both sizes and SHA-256s, and deletes nothing. For a segment
//! of several megabytes `s3s-fs` refuses the create-only upload before its body is
//! sent (the client sees a broken pipe, not "already exists"): the refusal must still
//! say what is there, not how the connection broke.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;

use retention_support::{days, prune, store_with_a_large_day};
use sha2::{Digest, Sha256};

#[test]
fn a_large_segment_whose_object_holds_other_bytes_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    let (store, segment) = store_with_a_large_day(
        dir.path(),
        &s3_support::archive_table(&s3, "eu-1/store", s3_support::SECRET_KEY),
    );
    let (rel, bytes) = (&segment.rel, &segment.bytes);
    // Other bytes under the segment's object name: as long, one byte changed.
    let mut other = bytes.clone();
    let last = other.len() - 2;
    other[last] ^= 1;
    let key = format!("eu-1/store/{rel}");
    let object = s3.object_file(&key);
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(&object, &other).unwrap();
    let log_before = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();

    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_ne!(code, 0, "{out}");
    let ours = hex::encode(Sha256::digest(bytes));
    let theirs = hex::encode(Sha256::digest(&other));
    assert!(
        out.contains("s3://audit/eu-1/store")
            && out.contains(&format!(
                "{key} already exists with {} bytes with SHA-256 {theirs}",
                other.len()
            ))
            && out.contains(&format!(
                "not the {} bytes with SHA-256 {ours}",
                bytes.len()
            ))
            && out.contains("an archived object is never replaced"),
        "{out}"
    );
    // Nothing deleted, nothing recorded, the object as it was.
    assert_eq!(days(&store), ["2025/01/01", "2025/02/01"]);
    assert_eq!(
        std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap(),
        log_before
    );
    assert_eq!(std::fs::read(&object).unwrap(), other);
}
