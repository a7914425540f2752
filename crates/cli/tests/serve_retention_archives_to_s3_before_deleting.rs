//! Archive before delete against a real S3-compatible server (`s3s-fs`, started by the
//! test): the server's retention copies the old day partitions and the checkpoint log
//! to the bucket, reads them back, records the objects in the signed deletion line,
//! and only then deletes them locally; `auditrail verify --archive s3://...` (S3
//! options as flags, credentials from the environment) verifies the bucket's copy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use std::process::Command;

use retention_support::{days, post_day, write_config};
use serve_support::{start, wait_for_log};

#[test]
fn retention_archives_to_s3_then_deletes_and_the_bucket_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    // The old days are stored by a server without retention (a store that aged): one
    // with it refuses events its next pass would delete (`timestamp_past_retention`).
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let today = auditrail::Timestamp::now().to_string()[..10].to_string();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 10, 1);
    post_day(&server, "2025-02-01", 10, 2);
    post_day(&server, &today, 10, 3);
    assert_eq!(tamper_support::stop(server), 0);
    write_config(
        dir.path(),
        &format!(
            "retention = \"30d\"\n{}",
            s3_support::archive_table(&s3, "eu-1/store", s3_support::SECRET_KEY)
        ),
    );
    let old: Vec<String> = auditrail_store::StoreFiles::walk(&store)
        .unwrap()
        .segments()
        .filter(|f| f.rel.contains("/2025/"))
        .map(|f| f.rel.clone())
        .collect();
    assert_eq!(old.len(), 4, "{old:?}");
    let originals: Vec<Vec<u8>> = old
        .iter()
        .map(|rel| std::fs::read(store.join(rel)).unwrap())
        .collect();

    // At its next start the server archives, then prunes, what is older than 30 days.
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention deleted time partitions");
    assert_eq!(tamper_support::stop(server), 0);
    assert_eq!(days(&store), [today.replace('-', "/")]);
    // The bucket holds the partitions as they were, and the log with its seals.
    for (rel, bytes) in old.iter().zip(&originals) {
        let key = format!("eu-1/store/{rel}");
        assert_eq!(
            &std::fs::read(s3.object_file(&key)).unwrap(),
            bytes,
            "{key}"
        );
    }
    // The log as it was when the pass ended (with its deletion line); the store's log
    // goes on after it (the clean stop's line).
    let archived_log = std::fs::read(s3.object_file("eu-1/store/checkpoints.jsonl")).unwrap();
    let store_log = std::fs::read(store.join("checkpoints.jsonl")).unwrap();
    assert!(
        store_log.starts_with(&archived_log),
        "the archived log is the store's log up to the pass"
    );
    let log = String::from_utf8(archived_log).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        line["deleted"]["archived"]["url"], "s3://audit/eu-1/store",
        "{line:#}"
    );
    assert_eq!(
        line["deleted"]["archived"]["objects"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "{line:#}"
    );

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--archive", "s3://audit/eu-1/store"])
        .args(["--archive-endpoint", &s3.endpoint, "--archive-allow-http"])
        .args([
            "--archive-region",
            "us-east-1",
            "--public-key",
            key.trim(),
            "--json",
        ])
        .env("AWS_ACCESS_KEY_ID", s3_support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3_support::SECRET_KEY)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["stores"][0]["records"], 20, "{report:#}");
}
