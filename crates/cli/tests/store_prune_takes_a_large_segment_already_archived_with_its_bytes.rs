//! A prune pass run again after one that was interrupted once it had uploaded a
//! segment (against a real S3-compatible server, `s3s-fs`): the object is already in
//! the bucket with the segment's bytes, and the pass takes it as it is and deletes the
//! partition. For a segment of several megabytes, `s3s-fs` refuses a create-only
//! upload over an existing name before the body is sent and closes the connection, so
//! the client sees a broken pipe, not "already exists": the pass must look the object
//! up rather than fail on every later run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;

use retention_support::{days, prune, store_with_a_large_day};

#[test]
fn a_large_segment_already_archived_with_its_bytes_is_taken_and_the_partition_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    let (store, segment) = store_with_a_large_day(
        dir.path(),
        &s3_support::archive_table(&s3, "eu-1/store", s3_support::SECRET_KEY),
    );
    let (rel, bytes) = (&segment.rel, &segment.bytes);
    // What the interrupted pass left: the segment's bytes under its object name.
    let object = s3.object_file(&format!("eu-1/store/{rel}"));
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(&object, bytes).unwrap();

    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(days(&store), ["2025/02/01"], "{out}");
    assert_eq!(&std::fs::read(&object).unwrap(), bytes);
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        line["deleted"]["archived"]["objects"][0]["bytes"],
        bytes.len(),
        "{line:#}"
    );
}
