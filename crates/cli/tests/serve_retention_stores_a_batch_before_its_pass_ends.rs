//! A batch POSTed while the server's retention deletes a pass of partitions (up to
//! `MAX_PARTITIONS_PER_PRUNE` = 1000) is stored between two of the pass's steps: its
//! answer arrives before the pass ends (its `retention deleted time partitions` line).
//! Each pass used to hold the store's writer from its walk of the store to the removal
//! of its last folder (seconds on a large store; a batch queued behind another waited
//! through several passes, beyond a node's client timeout).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support::{
    lines_now, new_id, post_events, start, wait_for_log, wait_for_log_count,
};
use crate::tamper_support;

/// Hourly partitions of one event each, all older than the retention: two passes (the
/// newest partition is kept while it holds the chain head).
const HOURS: i64 = 2000;

const PASS_LINE: &str = "retention deleted time partitions";

#[test]
fn a_batch_posted_during_the_last_pass_is_answered_before_that_pass_ends() {
    let dir = tempfile::tempdir().unwrap();
    retention_support::hourly_backlog(dir.path(), HOURS, 43);

    // Retention at start deletes the backlog in two passes; once the first is logged,
    // a node sends a batch: the second pass is under way.
    retention_support::write_hourly_config(dir.path(), "retention = \"2d\"\n");
    let server = start(dir.path(), &["--config", "server.toml"]);
    wait_for_log(&server, PASS_LINE);
    let (status, answer) =
        post_events(&server.addr, &lines_now("n-live", 1..=1, 44), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let log = server.stderr();
    assert_eq!(
        log.matches(PASS_LINE).count(),
        1,
        "the batch was answered only after the last retention pass ended: it waited for the whole pass\n{log}"
    );

    // The pass then ends as before, and everything verifies.
    wait_for_log_count(&server, PASS_LINE, 2);
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = tamper_support::verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stores"][0]["deletions"], 2, "{report:#}");
    // Left: the batch's event, and the backlog's newest unless the batch came before
    // the second pass was planned (then that record no longer held the chain head, and
    // the pass took it too). Every other record was deleted, and only those.
    let stored = crate::serve_support::stored_ids(&dir.path().join("data/store"));
    assert!(stored.contains_key(&new_id(1, 44)), "{stored:?}");
    let backlog_left = stored.len() as i64 - 1;
    assert!(
        backlog_left == 0 || stored.contains_key(&new_id(HOURS as u64, 43)),
        "{stored:?}"
    );
    assert_eq!(
        report["stores"][0]["deletedRecords"],
        HOURS - backlog_left,
        "{report:#}"
    );
}
