//! Store `a`'s file system with 1.3 MiB free, one batch of 2.4 MB for it retried at
//! the head of its queue: `a` is named under `/readyz` `degraded` (`disk_full`, with
//! `batch_bytes`) and its later batches are refused at once. Once an operator gives
//! the file system room (here: the tmpfs grown), the retried batch is stored, `a`
//! leaves `degraded` and its later batches are stored, no restart needed.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::common::Tmpfs;
use crate::full_disk_support::{
    disk_full_entry, padded_event, readyz, too_big_batch, two_stores_with,
    wedge_with_a_too_big_batch, ROOM,
};
use crate::serve_support::post_events;

const SALT: u64 = 613;

#[test]
fn room_freed_stores_the_retried_batch_and_the_later_ones() {
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
        "retry_max_backoff_ms = 500",
    );
    fs.fill_leaving(ROOM);
    wedge_with_a_too_big_batch(&server, "a", "svc-a", SALT);
    let (_, answer) = readyz(&server.addr);
    assert!(
        disk_full_entry(&answer, "a").is_some_and(|e| e["batch_bytes"].as_u64().is_some()),
        "a named while its batch is retried: {answer}\n{}",
        server.stderr()
    );

    fs.grow("16m");
    let until = Instant::now() + Duration::from_secs(60);
    let (status, answer) = loop {
        let (status, answer) =
            post_events(&server.addr, &padded_event("svc-a", 50, SALT), None).unwrap();
        if status == 200 || Instant::now() > until {
            break (status, answer);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
    let (status, answer) = readyz(&server.addr);
    assert!(
        status == 200 && disk_full_entry(&answer, "a").is_none(),
        "{status} {answer}"
    );
    // The retried batch was stored: sent again, each of its events is a duplicate.
    let (status, answer) =
        post_events(&server.addr, &too_big_batch("svc-a", 1000, SALT), None).unwrap();
    assert_eq!(
        (status, answer["duplicates"].as_u64()),
        (200, Some(40)),
        "{answer}"
    );
    server.kill9();
}
