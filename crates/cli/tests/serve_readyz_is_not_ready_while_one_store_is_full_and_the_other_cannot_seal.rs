//! Two stores, `a` on a file system filled up (a real tmpfs) and refusing its batches
//! `503 disk_full`, `b` unable to seal (its checkpoint log cut: `503 unsealed`): no
//! batch can be stored anywhere, though neither cause alone covers every store. The
//! server is not ready then (`disk_full`, naming both stores and why), as when every
//! store is full or every store cannot seal (docs/protocol.md, `GET /readyz`); counting
//! each cause apart would have answered `200 ready` with both under `degraded`.
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::full_disk_support::{fail_on_the_full_disk, readyz, two_stores};
use crate::serve_support::post_events;
use crate::tamper_support::ten;

const SALT: u64 = 165;

#[test]
fn readyz_is_503_when_one_store_is_full_and_the_other_cannot_seal() {
    let Some(fs) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    let server = two_stores(dir.path(), &fs.path().join("a"), &b, SALT);
    fs.fill();
    fail_on_the_full_disk(&server, "svc-a", SALT);
    let (status, answer) = readyz(&server.addr);
    assert_eq!(status, 200, "store b takes batches: {answer}");

    // b's checkpoint log emptied in place (logrotate's `copytruncate`): b cannot seal.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(b.join("checkpoints.jsonl"))
        .unwrap();
    let (status, answer) = post_events(&server.addr, &ten("svc-b", 11, SALT), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("unsealed")),
        "{answer}"
    );

    let (status, answer) = readyz(&server.addr);
    assert_eq!(
        (status, answer["status"].as_str(), answer["reason"].as_str()),
        (503, Some("not_ready"), Some("disk_full")),
        "no store takes a batch: {answer}\n{}",
        server.stderr()
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("no store destination takes a batch: ")
            && message.contains("store destination \"a\": its disk is full")
            && message.contains("store destination \"b\" cannot seal"),
        "{answer}"
    );
    server.kill9();
}
