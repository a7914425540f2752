//! The S3 client (`object_store`) takes `AWS_ENDPOINT_URL_S3` from the environment over
//! any endpoint given to it, so an `archive.endpoint` in the config (or
//! `--archive-endpoint`) was silently overridden by a variable left in an operator's
//! shell or a unit file: `store prune` sent the partitions to another S3 server than the
//! one configured (here: one nothing listens on, and the prune failed naming it). The
//! endpoint the operator configured is the one used; the environment's only fills in
//! when none is configured (docs/operations.md, "Archive").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::retention_support;
use crate::s3_support;

#[test]
fn a_configured_archive_endpoint_is_used_whatever_aws_endpoint_url_s3_says() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    retention_support::store_of_two_days(dir.path(), "");
    // A port nothing listens on: were it used, every request would be refused.
    let elsewhere = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "store",
            "prune",
            "--data-dir",
            "data",
            "--before",
            "2025-01-02",
            "--archive",
            "s3://audit/eu-1/store",
            "--archive-endpoint",
            &s3.endpoint,
            "--archive-allow-http",
        ])
        .env("AWS_ACCESS_KEY_ID", s3_support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3_support::SECRET_KEY)
        .env("AWS_ENDPOINT_URL_S3", &elsewhere)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains(&elsewhere), "{text}");
    let archived = walkdir(&s3.root.join(s3_support::BUCKET));
    assert!(
        archived
            .iter()
            .any(|p| p.starts_with("eu-1/store/") && p.contains("/2025/01/01/")),
        "the configured server holds no partition: {archived:?}\n{text}"
    );
}

/// The files under `root`, as paths relative to it.
fn walkdir(root: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    found
}
