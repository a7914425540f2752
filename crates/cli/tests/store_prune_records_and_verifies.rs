//! `auditrail store prune` on a stopped server's store: `--dry-run` lists what would go
//! and changes nothing; the prune deletes the days before `--before`, records the
//! deletion in a signed checkpoint line, `verify` passes afterwards, and the server
//! restarts on the store without calling the deleted range missing. While the server
//! runs, the prune is refused (the data dir's lock), naming the server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{days, post_day, prune, write_config};
use serve_support::start;

#[test]
fn prune_dry_run_then_prune_then_verify_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let store = dir.path().join("data/store");
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 20, i as u64 + 1);
    }
    // Refused while the server holds the store.
    let (code, out) = prune(dir.path(), "2025-01-03", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("in use by") && out.contains("(auditrail serve)"),
        "{out}"
    );
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let all = days(&store);
    assert_eq!(
        all,
        ["2025/01/01", "2025/01/02", "2025/01/03", "2025/01/04"]
    );
    let log_before = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();

    let (code, out) = prune(dir.path(), "2025-01-03", &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("would delete 4 partitions (40 records"),
        "{out}"
    );
    assert!(out.contains("generic/_none/2025/01/01"), "{out}");
    assert_eq!(days(&store), all, "a dry run changes nothing");
    assert_eq!(
        std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap(),
        log_before
    );

    let (code, out) = prune(
        dir.path(),
        "2025-01-03",
        &["--reason", "retention policy AR-7"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deleted 4 partitions (40 records"), "{out}");
    assert!(out.contains("recorded as checkpoint #"), "{out}");
    assert_eq!(days(&store), ["2025/01/03", "2025/01/04"]);
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let line = log.lines().last().unwrap();
    assert!(
        line.contains("\"deleted\":") && line.contains("retention policy AR-7"),
        "{line}"
    );

    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["deletions"], 1, "{report:#}");
    assert_eq!(report["stores"][0]["deletedRecords"], 40, "{report:#}");
    assert_eq!(report["stores"][0]["records"], 40, "{report:#}");

    // The server starts on the pruned store and does not call the range missing.
    let server = start(dir.path(), &["--config", "server.toml"]);
    post_day(&server, "2025-01-05", 5, 9);
    let log = server.stderr();
    assert_eq!(tamper_support::stop(server), 0);
    assert!(!log.contains("acknowledged records are missing"), "{log}");
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
}
