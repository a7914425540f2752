//! The batch that meets store `a`'s full disk (a real tmpfs filled up: its write fails
//! with `ENOSPC` and is retried, in order, before any later batch of `a`) is answered
//! `503 disk_full` naming `a`, as `/readyz` names it, once the store refuses batches at
//! two looks: not after the whole `ack_timeout_ms`. A store whose last batch failed for
//! another cause was answered early so (`store_failing`), while a full disk's batch
//! waited out `ack_timeout_ms` though `/readyz` already named the store.
//!
//! "Before the time-out" without a timing assertion: `ack_timeout_ms` is 10 minutes and
//! the test's client waits at most 60 s, so a batch left waiting gets no answer at all.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{big_batch, disk_full_entry, readyz, two_stores_with};
use crate::serve_support::post_events;

const SALT: u64 = 641;

#[test]
fn the_batch_that_meets_a_full_disk_is_answered_naming_its_store() {
    let Some(fs_a) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    let server = two_stores_with(dir.path(), &fs_a.path().join("a"), &b, SALT, 600_000, "");
    fs_a.fill();

    let (status, answer) = post_events(&server.addr, &big_batch("svc-a", 100, SALT), None)
        .unwrap_or_else(|e| {
            panic!(
                "no answer to the batch that met the full disk: {e}\n{}",
                server.stderr()
            )
        });
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("disk_full")),
        "{answer}\n{}",
        server.stderr()
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"a\": its disk is full")
            && message.contains("waits behind that batch"),
        "{answer}"
    );
    // The reason `/readyz` names the store under.
    let (_, ready) = readyz(&server.addr);
    assert!(disk_full_entry(&ready, "a").is_some(), "{ready}");
    server.kill9();
}
