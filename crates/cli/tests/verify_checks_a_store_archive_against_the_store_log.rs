//! The store's own signed checkpoint log is the authority on what was archived
//! (against a real S3-compatible server, `s3s-fs`). After two archiving prunes,
//! someone with write access to the bucket only removes the second pass's object (the
//! only copy of those records) and cuts the archive's `checkpoints.jsonl` back before
//! the deletion line naming it: what is left is a consistent, signed archive, which
//! `verify --archive` alone passes, saying it cannot show that it is complete. `verify
//! DATA_DIR --archive URL` and `verify --config` check the archive against the
//! store's log: the missing object and the cut log are `archived-object` errors
//! naming the object's key and the store's log line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use std::path::Path;

use retention_support::{post_day, prune, write_config};
use serve_support::start;

/// `auditrail verify ARGS` with the S3 credentials in the environment.
fn verify(dir: &Path, args: &[&str]) -> (i32, String) {
    s3_support::run(dir, &[&["verify"][..], args].concat())
}

#[test]
fn an_archive_cut_back_with_its_log_fails_the_verify_of_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    write_config(
        dir.path(),
        &s3_support::archive_table(&s3, "eu-1/store", s3_support::SECRET_KEY),
    );
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-01", 5, 1);
    post_day(&server, "2025-01-02", 5, 2);
    post_day(&server, "2025-02-01", 5, 3);
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    for before in ["2025-01-02", "2025-01-03"] {
        let (code, out) = prune(dir.path(), before, &[]);
        assert_eq!(code, 0, "{out}");
    }
    let endpoint = s3.endpoint.clone();
    let archive = [
        "--archive",
        "s3://audit/eu-1/store",
        "--archive-endpoint",
        &endpoint,
        "--archive-allow-http",
    ];
    let with_store: Vec<&str> = ["data", "--public-key", key]
        .into_iter()
        .chain(archive)
        .collect();
    // Untouched: the archive holds what the store's log records.
    let (code, out) = verify(dir.path(), &with_store);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("were checked there (size, SHA-256)"), "{out}");

    // The bucket's writer: the second pass's objects go, and the archive's log is cut
    // back before the deletion line naming them.
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let (line_no, last) = log
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"deleted\""))
        .last()
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(last).unwrap();
    let objects = line["deleted"]["archived"]["objects"].as_array().unwrap();
    assert!(!objects.is_empty(), "{line:#}");
    for o in objects {
        std::fs::remove_file(
            s3.object_file(&format!("eu-1/store/{}", o["path"].as_str().unwrap())),
        )
        .unwrap();
    }
    let archived_log = s3.object_file("eu-1/store/checkpoints.jsonl");
    let kept: String = std::fs::read_to_string(&archived_log)
        .unwrap()
        .lines()
        .take(line_no)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&archived_log, kept).unwrap();

    // The archive alone is consistent: it passes, and says what it cannot show.
    let alone: Vec<&str> = archive.into_iter().chain(["--public-key", key]).collect();
    let (code, out) = verify(dir.path(), &alone);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("an archive alone cannot show that it is complete"),
        "{out}"
    );

    // The store with its archive: each removed object, and the cut log, named with
    // the store's log line.
    let (code, out) = verify(dir.path(), &with_store);
    assert_eq!(code, 1, "{out}");
    let at = format!("checkpoints.jsonl line {}", line_no + 1);
    for o in objects {
        let object = format!(
            "object eu-1/store/{}: missing from the archive",
            o["path"].as_str().unwrap()
        );
        assert!(
            out.lines()
                .any(|l| l.contains("[archived-object]") && l.contains(&object) && l.contains(&at)),
            "{out}"
        );
    }
    assert!(
        out.lines().any(|l| l.contains("[archived-object]")
            && l.contains("its eu-1/store/checkpoints.jsonl lacks checkpoint #")
            && l.contains(&at)),
        "{out}"
    );
    // The config links each store to its archive.
    let (code, out) = verify(
        dir.path(),
        &["--config", "server.toml", "--public-key", key],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing from the archive"), "{out}");
    // A store verified without its archive says what was not checked.
    let (code, out) = verify(dir.path(), &["data", "--public-key", key]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("archived in s3://audit/eu-1/store (the only copy of the records it deleted), not checked here"),
        "{out}"
    );
}
