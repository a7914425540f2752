//! Two stores, `a` on a file system filled up (a real tmpfs), `b` on another with
//! room: once a batch for `a` failed on the full disk, every batch was refused `503
//! disk_full` ("store destination \"a\": its disk is full"), `b`'s nodes' too, though
//! `b` had room. Now a batch is refused for a full disk only when an event of it goes
//! to the full store (the answer names the store and where that event is in the
//! batch, nothing of it stored), and a batch for `b` is stored and acknowledged
//! (docs/protocol.md, "Errors", `disk_full`).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, padded_event, two_stores};
use crate::serve_support::{new_id, post_events, stored_ids};
use crate::tamper_support::{keyed_event, ten};

const SALT: u64 = 161;

#[test]
fn a_full_disk_under_one_store_refuses_that_stores_batches_alone() {
    let Some(fs) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    let server = two_stores(dir.path(), &fs.path().join("a"), &b, SALT);
    fs.fill();
    fail_on_the_full_disk(&server, "svc-a", SALT);

    // A batch for `b`: stored and acknowledged.
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 11, SALT), None).unwrap();
    assert_eq!(
        status,
        200,
        "store b has room: {answer}\n{}",
        server.stderr()
    );
    assert_eq!(answer["accepted"], 10, "{answer}");
    let stored = stored_ids(&b);
    assert!(
        (11..21).all(|n| stored.contains_key(&new_id(n, SALT))),
        "b's batch is in b: {stored:?}"
    );

    // A batch with one event for `a` (line 2): refused, naming `a` and the line,
    // nothing of it stored (its event for `b` neither).
    let mixed = keyed_event("svc-b", 21, SALT) + &padded_event("svc-a", 200, SALT);
    let (status, answer) = post_events(&server.addr, &mixed, None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("disk_full")),
        "{answer}"
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"a\": its disk is full")
            && message.contains("the first at line 2")
            && message.contains("nothing was stored"),
        "{answer}"
    );
    assert_eq!(answer["line"], 2, "{answer}");
    assert!(
        !stored_ids(&b).contains_key(&new_id(21, SALT)),
        "nothing of a refused batch is stored"
    );
    server.kill9();
}
