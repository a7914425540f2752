//! Two stores, `a` on a file system filled up (a real tmpfs), `b` on another with
//! room: once a batch for `a` failed on the full disk, `/readyz` answered `503
//! not_ready` (`disk_full`), and a load balancer took the whole server out, `b`'s
//! nodes with it. Now the server stays ready while `b` takes batches, and names `a`
//! under `degraded` (`disk_full`, with its free bytes), as it names a store that
//! cannot seal (docs/protocol.md, `GET /readyz`).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, readyz, two_stores};

const SALT: u64 = 162;

#[test]
fn readyz_is_200_naming_the_full_store_under_degraded() {
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
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("ready")),
        "store b takes batches: {answer}\n{}",
        server.stderr()
    );
    let degraded = answer["degraded"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    let full: Vec<_> = degraded
        .iter()
        .filter(|d| d["reason"] == "disk_full")
        .collect();
    assert_eq!(full.len(), 1, "{answer}");
    assert_eq!(full[0]["store"], "a", "{answer}");
    let free = full[0]["free_bytes"].as_u64().unwrap();
    assert!(free < 1 << 20, "{answer}");
    assert!(
        full[0]["message"].as_str().unwrap().starts_with(&format!(
            "store destination \"a\": its disk is full ({free} bytes free"
        )),
        "{answer}"
    );
    server.kill9();
}
