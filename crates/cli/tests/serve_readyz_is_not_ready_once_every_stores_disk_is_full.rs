//! Two stores, each on a file system of its own filled up (real tmpfs): the server is
//! ready while one of them takes batches (the full one named under `degraded`), and
//! not ready (`503`, `disk_full`, naming both) once the other's batches meet its full
//! disk too, since no batch can be stored anywhere then (docs/protocol.md, `GET
//! /readyz`). Before, it was not ready from the first full store on.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, readyz, two_stores};

const SALT: u64 = 163;

#[test]
fn readyz_is_503_disk_full_once_no_store_takes_batches() {
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
    fail_on_the_full_disk(&server, "svc-a", SALT);
    let (status, answer) = readyz(&server.addr);
    assert_eq!(status, 200, "store b still takes batches: {answer}");

    fs_b.fill();
    fail_on_the_full_disk(&server, "svc-b", SALT);
    let (status, answer) = readyz(&server.addr);
    assert_eq!(
        (status, answer["status"].as_str(), answer["reason"].as_str()),
        (503, Some("not_ready"), Some("disk_full")),
        "{answer}\n{}",
        server.stderr()
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("store destination \"a\": its disk is full")
            && message.contains("store destination \"b\": its disk is full"),
        "{answer}"
    );
    server.kill9();
}
