//! Two stores, each on a file system of its own filled up (real tmpfs), `a` found full
//! first: a batch for `b` that met `b`'s full disk and waited out `ack_timeout_ms` was
//! answered `503 disk_full` naming `a`, the first store found full, not the one the
//! batch went to. Now the answer names the full store the batch went to
//! (docs/protocol.md, "Errors", `disk_full`).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, two_stores};

const SALT: u64 = 164;

#[test]
fn a_timed_out_batch_names_the_full_store_it_went_to() {
    let (Some(fs_a), Some(fs_b)) = (Tmpfs::mount("2m"), Tmpfs::mount("2m")) else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = two_stores(
        dir.path(),
        &fs_a.path().join("a"),
        &fs_b.path().join("b"),
        SALT,
    );
    fs_a.fill();
    fs_b.fill();
    let answer = fail_on_the_full_disk(&server, "svc-a", SALT);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("store destination \"a\": its disk is full"),
        "{answer}"
    );

    let answer = fail_on_the_full_disk(&server, "svc-b", SALT);
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("store destination \"b\": its disk is full")
            && message.contains("was not acknowledged within 2000 ms"),
        "{answer}"
    );
    server.kill9();
}
