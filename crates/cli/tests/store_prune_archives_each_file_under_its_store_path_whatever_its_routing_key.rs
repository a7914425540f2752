//! The archive is laid out as the store (docs/operations.md), whatever the topics and
//! routing keys (against a real S3-compatible server, `s3s-fs`). A routing key that is
//! not a plain folder name (`Deployment 42`) is filed under `deployment_42~<hex>`; the
//! object store client escaped that `~` (`%7E`) in the objects' keys, so the archive's
//! folders were not the store's, and `verify --archive` alone failed a good archive:
//! every archived object "missing from the archive", every record "misplaced". Each
//! object now has its file's path as its key, and the archive verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::write_config;
use serve_support::{new_id, post_events, start};

#[test]
fn objects_are_named_by_the_store_paths_and_verify_archive_passes() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = s3_support::start(dir.path());
    write_config(
        dir.path(),
        &s3_support::archive_table(&s3, "eu-1/store", s3_support::SECRET_KEY),
    );
    let server = start(dir.path(), &["--config", "server.toml"]);
    let body: String = ["2025-01-01", "2025-01-01", "2025-02-01"]
        .iter()
        .enumerate()
        .map(|(n, day)| {
            serde_json::json!({
                "id": new_id(n as u64, 7), "timestamp": format!("{day}T10:00:0{n}.000Z"),
                "topic": "generic", "routingKey": "Deployment 42", "node": "n1",
                "seq": n + 1, "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
                + "\n"
        })
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(tamper_support::stop(server), 0);

    let (code, out) = crate::retention_support::prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    let log = std::fs::read_to_string(dir.path().join("data/store/checkpoints.jsonl")).unwrap();
    let line: serde_json::Value = log
        .lines()
        .rev()
        .filter(|l| l.contains("\"deleted\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .next()
        .unwrap();
    let objects = line["deleted"]["archived"]["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{line:#}");
    let path = objects[0]["path"].as_str().unwrap();
    assert!(path.contains("/deployment_42~"), "{path}");
    assert!(
        s3.object_file(&format!("eu-1/store/{path}")).is_file(),
        "no object under the store's path {path} in the bucket"
    );

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, out) = s3_support::run(
        dir.path(),
        &[
            "verify",
            "--archive",
            "s3://audit/eu-1/store",
            "--archive-endpoint",
            &s3.endpoint,
            "--archive-allow-http",
            "--public-key",
            key.trim(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 records"), "{out}");
}
