//! Two servers deployed from one config template (an HA pair) whose store has the same
//! `archive = "file:///..."`: their segments have the same names (chain numbers start
//! at 1 in every store). The first server's retention archives and deletes its old
//! partitions; the second one's is refused (logged as `retention failed`, naming the
//! archive and both store ids, and counted), deletes nothing, and leaves the first
//! server's archive as it was: every object in place, and `auditrail verify --archive`
//! passes with all its records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::collections::BTreeMap;
use std::path::Path;

use retention_support::{days, post_day, run, write_config};
use serve_support::{start, wait_for_log};

/// Every file under `folder` (relative) with its bytes.
fn files_under(folder: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![folder.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let rel = path.strip_prefix(folder).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_second_server_is_refused_and_the_first_archive_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let url = format!("file://{}", archive.display());
    let servers = [dir.path().join("one"), dir.path().join("two")];
    let today = auditrail::Timestamp::now().to_string()[..10].to_string();
    // Each server stores two old days and today, with the template without retention
    // (nothing is pruned yet).
    for (i, at) in servers.iter().enumerate() {
        std::fs::create_dir_all(at).unwrap();
        write_config(at, &format!("archive = \"{url}\"\n"));
        let server = start(at, &["--config", "server.toml"]);
        let salt = 10 * i as u64;
        post_day(&server, "2025-01-01", 10, salt + 1);
        post_day(&server, "2025-02-01", 10, salt + 2);
        post_day(&server, &today, 10, salt + 3);
        assert_eq!(tamper_support::stop(server), 0);
        write_config(at, &format!("retention = \"30d\"\narchive = \"{url}\"\n"));
    }
    let store = |at: &Path| at.join("data/store");
    let id = |at: &Path| {
        std::fs::read_to_string(store(at).join("store-id"))
            .unwrap()
            .trim()
            .to_string()
    };
    let (one, two) = (&servers[0], &servers[1]);

    // The first server archives, then deletes, what is older than 30 days.
    let server = start(one, &["--config", "server.toml"]);
    wait_for_log(&server, "retention deleted time partitions");
    assert_eq!(tamper_support::stop(server), 0);
    assert_eq!(days(&store(one)), [today.replace('-', "/")]);
    let first_archive = files_under(&archive);
    assert_eq!(
        String::from_utf8_lossy(&first_archive["store-id"]).trim(),
        id(one)
    );

    // The second server's retention is refused: logged, counted, nothing deleted.
    let before = days(&store(two));
    let log_before = std::fs::read_to_string(store(two).join("checkpoints.jsonl")).unwrap();
    let server = start(two, &["--config", "server.toml"]);
    wait_for_log(&server, "retention failed");
    let (status, metrics) =
        serve_support::request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
    let stderr = server.stderr();
    assert_eq!(tamper_support::stop(server), 0);
    let error = stderr
        .lines()
        .find(|l| l.contains("retention failed"))
        .unwrap();
    assert!(
        error.contains("archive before delete failed; nothing was deleted")
            && error.contains(&format!(
                "archive {url}: the prefix belongs to store {}",
                id(one)
            ))
            && error.contains(&format!("not to this store {}", id(two))),
        "{error}"
    );
    assert!(!stderr.contains("retention deleted"), "{stderr}");
    let failures = metrics
        .lines()
        .find(|l| l.starts_with("auditrail_server_store_retention_archive_failures_total{"))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(failures.ends_with(" 1"), "{failures}");
    assert_eq!(days(&store(two)), before);
    assert_eq!(before.len(), 3);
    // No deletion line: the log only gained the lines of the start and the clean stop.
    let log_after = std::fs::read_to_string(store(two).join("checkpoints.jsonl")).unwrap();
    assert!(log_after.starts_with(&log_before), "{log_after}");
    assert!(
        !log_after[log_before.len()..].contains("\"deleted\""),
        "{log_after}"
    );

    // The first server's archive: as it was, and it verifies with all 20 records.
    assert_eq!(files_under(&archive), first_archive);
    let key = std::fs::read_to_string(one.join("data/signing.pub")).unwrap();
    let (code, out) = run(
        one,
        &[
            "verify",
            "--archive",
            &url,
            "--public-key",
            key.trim(),
            "--json",
        ],
    );
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}"));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["records"], 20, "{report:#}");
    // And both stores verify.
    for at in &servers {
        let key = std::fs::read_to_string(at.join("data/signing.pub")).unwrap();
        let (code, report) = tamper_support::verify(at, key.trim());
        assert_eq!(code, 0, "{report:#}");
    }
}
