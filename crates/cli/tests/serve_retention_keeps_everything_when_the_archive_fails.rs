//! Archive before delete when the archive refuses the upload (a real S3-compatible
//! server, `s3s-fs`, given the wrong secret key): the server's retention deletes
//! nothing, writes no deletion line, logs an error naming the object (the prefix's
//! `store-id`, read first) and the server's answer, and counts it in
//! `auditrail_server_store_retention_archive_failures_total`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{days, post_day, write_config};
use serve_support::{start, wait_for_log};

#[test]
fn a_refused_upload_deletes_nothing_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    // The old days are stored by a server without retention (a store that aged): one
    // with it refuses events its next pass would delete (`timestamp_past_retention`).
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 10, 1);
    post_day(&server, "2025-02-01", 10, 2);
    assert_eq!(tamper_support::stop(server), 0);
    write_config(
        dir.path(),
        &format!(
            "retention = \"30d\"\n{}",
            s3_support::archive_table(&s3, "eu-1", "not-the-secret")
        ),
    );
    let before = days(&store);
    let log_before = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();

    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention failed");
    let (status, metrics) =
        serve_support::request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
    let stderr = server.stderr();
    assert_eq!(tamper_support::stop(server), 0);
    let failures = metrics
        .lines()
        .find(|l| l.starts_with("auditrail_server_store_retention_archive_failures_total{"))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(failures.ends_with(" 1"), "{failures}");
    // The error names the object and the cause (the server's refusal): the first
    // request of a prune reads the prefix's `store-id` (whose store the prefix is).
    let error = stderr
        .lines()
        .find(|l| l.contains("retention failed"))
        .unwrap();
    assert!(
        error.contains("archive before delete failed; nothing was deleted")
            && error.contains("read of eu-1/store-id failed")
            && error.contains("SignatureDoesNotMatch"),
        "{error}"
    );
    // Nothing deleted, nothing recorded as deleted, nothing in the bucket's folder but
    // what a refused upload leaves (nothing).
    assert_eq!(days(&store), before);
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    assert!(!log.contains("\"deleted\""), "{log}");
    assert!(log.starts_with(&log_before));
    assert!(!s3.object_file("eu-1").exists());
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
}
