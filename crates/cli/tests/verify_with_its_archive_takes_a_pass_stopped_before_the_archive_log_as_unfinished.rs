//! A prune whose upload of the checkpoint log to the archive fails (against a real
//! S3-compatible server, `s3s-fs`; the failure made with a folder where the server
//! writes that object) has written its signed deletion line and removed nothing
//! (docs/operations.md, "Archive before delete", step 3). `verify DATA_DIR --archive`
//! then reported an `archived-object` error, "the archive's log was cut back or
//! replaced": a tamper alarm for a pass that was only interrupted. Its files are all
//! still in the store: verify warns `deletion-incomplete` and passes, and after the
//! next prune (which finishes) it passes without the warning. An archive log really
//! cut back stays an error (verify_checks_a_store_archive_against_the_store_log.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::s3_support;

#[test]
fn verify_warns_of_the_unfinished_pass_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (s3, _) = s3_support::store_of_two_days_archiving(dir.path());
    let log_object = s3.object_file("eu-1/store/checkpoints.jsonl");
    std::fs::create_dir_all(&log_object).unwrap();
    let prune = [
        "store",
        "prune",
        "--config",
        "server.toml",
        "--before",
        "2025-01-02",
    ];
    let (code, out) = s3_support::run(dir.path(), &prune);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("upload of eu-1/store/checkpoints.jsonl failed"),
        "{out}"
    );
    // The S3 server works again; the line is in the store's log, its files are there.
    std::fs::remove_dir(&log_object).unwrap();
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let verify = [
        "verify",
        "data",
        "--public-key",
        key.trim(),
        "--archive",
        "s3://audit/eu-1/store",
        "--archive-endpoint",
        &s3.endpoint,
        "--archive-allow-http",
    ];
    let (code, out) = s3_support::run(dir.path(), &verify);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deletion-incomplete"), "{out}");
    assert!(!out.contains("cut back"), "{out}");

    let (code, out) = s3_support::run(dir.path(), &prune);
    assert_eq!(code, 0, "{out}");
    let (code, out) = s3_support::run(dir.path(), &verify);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("deletion-incomplete"), "{out}");
}
