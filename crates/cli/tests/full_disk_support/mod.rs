//! What the tests of one store's full disk beside another store share: two stores
//! keyed by routing key (`a` takes `svc-a`, `b` takes `svc-b`), each on a folder the
//! test chooses (a small tmpfs it fills, or the test's temp folder), and a batch too
//! large for a filled disk's last pages.

use std::path::Path;

use crate::serve_support::{new_id, post_events, request, start, ServerProc};
use crate::tamper_support::ten;

/// Starts a server in `dir` (data folder `dir/data`) with store `a` at `a` and store
/// `b` at `b`, and stores ten events in each (their files made while there is room).
pub(crate) fn two_stores(dir: &Path, a: &Path, b: &Path, salt: u64) -> ServerProc {
    two_stores_with(dir, a, b, salt, 2000, "")
}

/// [`two_stores`] waiting `ack_timeout_ms` for the stores, with `a_keys` (TOML lines)
/// added to `a`'s entry.
pub(crate) fn two_stores_with(
    dir: &Path,
    a: &Path,
    b: &Path,
    salt: u64,
    ack_timeout_ms: u64,
    a_keys: &str,
) -> ServerProc {
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "data_dir = \"data\"\nack_timeout_ms = {ack_timeout_ms}\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {a:?}\nrouting_keys = [\"svc-a\"]\n{a_keys}\n\
             [[destinations]]\nname = \"b\"\ntype = \"store\"\npath = {b:?}\nrouting_keys = [\"svc-b\"]\n"
        ),
    )
    .unwrap();
    let server = start(dir, &["--config", "server.toml"]);
    for key in ["svc-a", "svc-b"] {
        let (status, answer) = post_events(&server.addr, &ten(key, 1, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    server
}

/// One event of `key` padded to about 1 KiB, a line of a batch.
pub(crate) fn padded_event(key: &str, n: u64, salt: u64) -> String {
    serde_json::json!({
        "id": new_id(n, salt), "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": "generic", "routingKey": key, "node": format!("n-{key}"), "seq": n,
        "message": {"msgType": "login", "pad": "x".repeat(1000)}
    })
    .to_string()
        + "\n"
}

/// 60 events of `key` of about 1 KiB each (from sequence number `first`): more than a
/// filled disk's last pages take.
pub(crate) fn big_batch(key: &str, first: u64, salt: u64) -> String {
    (first..first + 60)
        .map(|n| padded_event(key, n, salt))
        .collect()
}

/// Sends a batch of `key` too large for its store's filled disk: it meets `ENOSPC`,
/// waits out `ack_timeout_ms` and is answered `503 disk_full` (its store retries it).
/// The answer.
pub(crate) fn fail_on_the_full_disk(
    server: &ServerProc,
    key: &str,
    salt: u64,
) -> serde_json::Value {
    let (status, answer) = post_events(&server.addr, &big_batch(key, 100, salt), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("disk_full")),
        "{answer}\n{}",
        server.stderr()
    );
    answer
}

/// `/readyz`'s status and body.
pub(crate) fn readyz(addr: &str) -> (u16, serde_json::Value) {
    let (status, body) = request(addr, "GET", "/readyz", &[], b"").unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

/// Free bytes left on a store's disk by the tests of a batch larger than that room:
/// more than the 1 MiB under which a store's disk is full, so small batches fit.
pub(crate) const ROOM: u64 = 1300 * 1024;

/// 40 events of `key` of about 60 KB each (from sequence number `first`), about
/// 2.4 MB: more than [`ROOM`].
pub(crate) fn too_big_batch(key: &str, first: u64, salt: u64) -> String {
    (first..first + 40)
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, salt), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "routingKey": key, "node": format!("big-{key}"), "seq": n,
                "message": {"msgType": "login", "pad": "x".repeat(60_000)}
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// Sends [`too_big_batch`] of `key` without waiting for its answer (the server holds
/// it until `ack_timeout_ms`, retrying it), and returns once store `store` counts a
/// write that failed on its full disk (`/v1/stats`, `diskFullErrors`).
pub(crate) fn wedge_with_a_too_big_batch(server: &ServerProc, store: &str, key: &str, salt: u64) {
    let addr = server.addr.clone();
    let body = too_big_batch(key, 1000, salt);
    // Its answer comes after ack_timeout_ms, or never read: the test goes on meanwhile.
    std::thread::spawn(move || post_events(&addr, &body, None));
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, stats) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        if stats["stores"][store]["diskFullErrors"].as_u64() >= Some(1) {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "the batch never met the full disk: {status} {stats}\n{}",
            server.stderr()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `/readyz`'s `degraded` entry for store `store` (`disk_full`), if any.
pub(crate) fn disk_full_entry(
    answer: &serde_json::Value,
    store: &str,
) -> Option<serde_json::Value> {
    answer["degraded"]
        .as_array()?
        .iter()
        .find(|d| d["reason"] == "disk_full" && d["store"] == store)
        .cloned()
}
