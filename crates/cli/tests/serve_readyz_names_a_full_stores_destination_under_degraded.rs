//! `/readyz`'s `disk_full` entry under `degraded` named its store as `store` and in
//! its message, while the `destination_behind` and `held` entries name theirs as
//! `destination`: a reader had to know which key each reason uses. Now every entry
//! about one destination has `destination` (a store's keeps `store`, the same name).
//! Store `a` on a real tmpfs filled up, `b` on another with room.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, readyz, two_stores};

const SALT: u64 = 631;

#[test]
fn the_full_stores_disk_full_entry_has_its_destination() {
    let Some(fs) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = two_stores(
        dir.path(),
        &fs.path().join("a"),
        &dir.path().join("b"),
        SALT,
    );
    fs.fill();
    fail_on_the_full_disk(&server, "svc-a", SALT);

    let (status, answer) = readyz(&server.addr);
    assert_eq!(status, 200, "store b takes batches: {answer}");
    let degraded = answer["degraded"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let full = degraded
        .iter()
        .find(|d| d["reason"] == "disk_full")
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(
        (&full["destination"], &full["store"]),
        (&"a".into(), &"a".into()),
        "{answer}"
    );
    server.kill9();
}
