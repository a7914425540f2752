//! `auditrail store prune` archiving to an S3 endpoint that takes the connection and
//! never answers (a frozen gateway): the S3 client retried each request for 3
//! minutes (181 s before the prune said anything). Its retries are bounded (3, within
//! 30 s of the first attempt, each attempt at most 30 s), so the prune gives up
//! within about a minute, naming the request that timed out, and deletes nothing.
//! The server's retention pass gets the same bounds (`retention failed`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::retention_support;
use crate::s3_support;

use retention_support::days;

#[test]
fn a_prune_to_a_frozen_archive_gives_up_naming_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let frozen = s3_support::frozen();
    let store = retention_support::store_of_two_days(dir.path(), "");
    let before = days(&store);

    let out_path = dir.path().join("prune.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "store",
            "prune",
            "--data-dir",
            "data",
            "--before",
            "2025-01-02",
        ])
        .args([
            "--archive",
            "s3://audit/eu-1",
            "--archive-endpoint",
            &frozen.endpoint,
        ])
        .arg("--archive-allow-http")
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .current_dir(dir.path())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&out_path)
                .unwrap(),
        ))
        .spawn()
        .unwrap();
    // A bound on the wait, not a measurement: the client's own default gave up after
    // 3 minutes.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "store prune still waited on the frozen S3 server after 120 s: {}",
                std::fs::read_to_string(&out_path).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(&out_path).unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(frozen.accepted() > 0);
    // The first request of a prune reads the prefix's `store-id`.
    assert!(
        out.contains("archive before delete failed; nothing was deleted")
            && out.contains("read of eu-1/store-id failed")
            && out.contains("timed out"),
        "{out}"
    );
    assert_eq!(days(&store), before);
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    assert!(!log.contains("\"deleted\""), "{log}");
}
