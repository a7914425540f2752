//! A server whose retention archives to an S3 endpoint that takes the connection and
//! never answers (a frozen gateway) gets SIGTERM while the pass waits on it. The stop
//! used to wait for the pass, whose requests the S3 client retried for 3 minutes
//! each, far beyond `shutdown_timeout_s` (systemd then kills the server before its
//! final checkpoint). The pass is stopped at the shutdown instead: the server logs
//! that retention was stopped by the shutdown, stops cleanly, and nothing was deleted
//! or recorded as deleted (nothing is removed before its copy was read back).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::s3_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::days;
use serve_support::start;

fn write_config(dir: &std::path::Path, extra: &str) {
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "data_dir = \"data\"\nshutdown_timeout_s = 3\n[[destinations]]\ntype = \"store\"\npath = \"store\"\npartitioning = \"day\"\n{extra}"
        ),
    )
    .unwrap();
}

/// The log of the last server started in `dir` (`serve_support` names each
/// `stderr-<nanoseconds>.log`).
fn last_server_log(dir: &std::path::Path) -> String {
    let last = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("stderr-") && name.ends_with(".log")
        })
        .max_by_key(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.trim_start_matches("stderr-")
                .trim_end_matches(".log")
                .parse::<u128>()
                .unwrap()
        })
        .unwrap();
    std::fs::read_to_string(last).unwrap()
}

#[test]
fn sigterm_stops_a_retention_pass_that_waits_on_a_frozen_archive() {
    let dir = tempfile::tempdir().unwrap();
    let frozen = s3_support::frozen();
    let archive = format!(
        "archive = {{ url = \"s3://audit/eu-1\", endpoint = \"{}\", allow_http = true, access_key_id = \"k\", secret_access_key = \"s\" }}\n",
        frozen.endpoint
    );
    let store = retention_support::store_of_two_days(dir.path(), &archive);
    let before = days(&store);
    let log_before = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();

    // The retention pass at start reads the prefix's `store-id` first: it waits there.
    write_config(dir.path(), &format!("retention = \"1h\"\n{archive}"));
    let server = start(dir.path(), &["--config", "server.toml"]);
    frozen.wait_for_a_connection();
    let log = server.stderr();
    assert!(!log.contains("retention"), "{log}");
    // `terminate` waits 30 s at most; the S3 client alone retried for 3 minutes.
    assert_eq!(tamper_support::stop(server), 0);
    let log = last_server_log(dir.path());
    assert!(
        log.contains("retention stopped by the shutdown")
            && log.contains(
                "archive before delete stopped by the shutdown; nothing of this pass was deleted"
            ),
        "{log}"
    );
    assert!(!log.contains("retention failed"), "{log}");
    // Nothing deleted, nothing recorded as deleted; the store verifies.
    assert_eq!(days(&store), before);
    let log_after = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    assert!(log_after.starts_with(&log_before));
    assert!(!log_after.contains("\"deleted\""), "{log_after}");
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
}
