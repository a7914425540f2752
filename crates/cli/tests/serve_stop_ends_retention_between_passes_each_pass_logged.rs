//! A SIGTERM while the server's retention (no archive) deletes a backlog of more
//! partitions than one pass takes (`MAX_PARTITIONS_PER_PRUNE` = 1000; no config lowers
//! it): the prune stops between two passes, each pass done was logged as it completed
//! (one `retention deleted time partitions` line each, before the stop), the stop says
//! after how many passes retention stopped, the server stops cleanly and `verify`
//! passes. The stop used to wait for every remaining pass in silence (beyond
//! `shutdown_timeout_s`), and every pass was logged only once all were done.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support::{start, wait_for_log};
use crate::tamper_support;

/// Hourly partitions of one event each, all older than the retention: 5 passes.
const HOURS: i64 = 4100;

#[test]
fn sigterm_during_retention_stops_it_between_passes_each_logged() {
    let dir = tempfile::tempdir().unwrap();
    retention_support::hourly_backlog(dir.path(), HOURS, 41);

    // Retention at start deletes the backlog pass after pass; stop it after the first.
    retention_support::write_hourly_config(dir.path(), "retention = \"2d\"\n");
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, "retention deleted time partitions");
    let log_path = server.stderr_path.clone();
    assert_eq!(server.terminate(), 0, "the stop is clean");
    let log = std::fs::read_to_string(log_path).unwrap();

    let lines: Vec<&str> = log.lines().collect();
    let term = lines
        .iter()
        .position(|l| l.contains("SIGTERM: shutting down"))
        .unwrap_or_else(|| panic!("{log}"));
    let stopped = lines
        .iter()
        .position(|l| l.contains("retention stopped by the shutdown after "))
        .unwrap_or_else(|| panic!("retention was not stopped by the SIGTERM:\n{log}"));
    assert!(stopped > term, "{log}");
    let passes: usize = lines[stopped]
        .split("retention stopped by the shutdown after ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let deleted: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("retention deleted time partitions"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(deleted.len(), passes, "one line per pass done\n{log}");
    assert!(
        (1..5).contains(&passes),
        "the stop came after {passes} of 5 passes\n{log}"
    );
    // Each pass was logged as it completed: the first before the SIGTERM.
    assert!(deleted[0] < term, "{log}");
    assert!(deleted.iter().all(|&i| i < stopped), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");

    // Every pass done is recorded, and the store verifies.
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["deletions"], passes, "{report:#}");
    assert_eq!(
        report["stores"][0]["deletedRecords"],
        passes * 1000,
        "{report:#}"
    );
}
