//! Store `a`'s file system with 1.3 MiB free, one batch of 2.4 MB for it retried at
//! the head of its queue, its later batches refused at once (`503 disk_full`) and `a`
//! named under `/readyz` `degraded` (see
//! `serve_a_batch_larger_than_its_stores_room_refuses_later_batches_at_once_naming_the_store`).
//! With `retry_max_elapsed_s`, the dispatcher gives that batch up (dead-letters it):
//! nothing would then clear the store's full-disk flag (only a write does, and every
//! batch was refused), so `a` would refuse batches that fit for good. Now giving the
//! batch up clears it (`Target::gave_up`): `a` leaves `degraded` and its small batches
//! are stored, on the same disk, no room freed.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::common::Tmpfs;
use crate::full_disk_support::{
    disk_full_entry, padded_event, readyz, two_stores_with, wedge_with_a_too_big_batch, ROOM,
};
use crate::serve_support::post_events;

const SALT: u64 = 612;

#[test]
fn the_batch_given_up_no_longer_refuses_the_stores_later_batches() {
    let Some(fs) = Tmpfs::mount("8m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = two_stores_with(
        dir.path(),
        &fs.path().join("a"),
        &dir.path().join("b"),
        SALT,
        2000,
        "retry_max_elapsed_s = 3\nretry_max_backoff_ms = 500",
    );
    fs.fill_leaving(ROOM);
    wedge_with_a_too_big_batch(&server, "a", "svc-a", SALT);
    let (_, answer) = readyz(&server.addr);
    assert!(
        disk_full_entry(&answer, "a").is_some(),
        "a named while its batch is retried: {answer}\n{}",
        server.stderr()
    );

    // Given up within a few seconds: a's small batches are stored again.
    let until = Instant::now() + Duration::from_secs(60);
    let (status, answer) = loop {
        let (status, answer) =
            post_events(&server.addr, &padded_event("svc-a", 50, SALT), None).unwrap();
        if status == 200 || Instant::now() > until {
            break (status, answer);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (200, Some(1)),
        "{answer}\n{}",
        server.stderr()
    );
    let (status, answer) = readyz(&server.addr);
    assert!(
        status == 200 && disk_full_entry(&answer, "a").is_none(),
        "{status} {answer}"
    );
    assert!(
        server
            .stderr()
            .contains("the batch the disk could not take was given up by the dispatcher"),
        "{}",
        server.stderr()
    );
    server.kill9();
}
