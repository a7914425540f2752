//! `/readyz` not ready because every store refuses (each on a filled tmpfs) said which
//! stores only in its `message`, in words: a reader (an alert, a dashboard) had to
//! parse it. Now the `503` body has `destinations`, one entry per destination that
//! refuses, in the shape of a `degraded` entry (`destination`, `reason`, `message`, and
//! a full disk's `free_bytes`) (docs/protocol.md, `GET /readyz`).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, readyz, two_stores};

const SALT: u64 = 642;

#[test]
fn readyz_not_ready_lists_each_full_store() {
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
    fail_on_the_full_disk(&server, "svc-a", SALT);
    fail_on_the_full_disk(&server, "svc-b", SALT);
    let (status, answer) = readyz(&server.addr);
    assert_eq!(
        (status, answer["status"].as_str()),
        (503, Some("not_ready")),
        "{answer}\n{}",
        server.stderr()
    );
    let listed = answer["destinations"]
        .as_array()
        .unwrap_or_else(|| panic!("no `destinations` list: {answer}"));
    let names: Vec<&str> = listed
        .iter()
        .map(|d| d["destination"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"], "{answer}");
    for d in listed {
        assert_eq!(d["reason"], "disk_full", "{d}");
        assert!(d["free_bytes"].is_u64(), "{d}");
        assert!(
            d["message"].as_str().unwrap().contains("its disk is full"),
            "{d}"
        );
    }
    server.kill9();
}
