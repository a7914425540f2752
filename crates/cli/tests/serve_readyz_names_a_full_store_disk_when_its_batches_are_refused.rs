//! A store on its own file system filled to the last page (a real tmpfs), the data
//! folder on another with room: small batches still fit in the store's last pages and
//! were stored (`200`), yet `/readyz` answered `503 disk_full` from its probe's block,
//! which did not fit. Now `/readyz` answers as the ingest does, per store: ready while
//! batches are taken; once a batch met the full disk (answered `disk_full`), not ready
//! (`disk_full`), naming that store as the answer to the next batch does
//! (docs/protocol.md, `GET /readyz`). Not ready since it is the only store: beside a store
//! that takes batches it is named under `degraded` instead
//! (serve_readyz_names_a_full_store_under_degraded_while_another_takes_batches.rs).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::serve_support::{event_line, new_id, post_events, request, start};

use std::time::{Duration, Instant};

fn readyz(addr: &str) -> (u16, serde_json::Value) {
    let (status, body) = request(addr, "GET", "/readyz", &[], b"").unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

/// 60 events of about 1 KiB each: more than the pages left.
fn big_batch() -> String {
    let pad = "x".repeat(1000);
    (2..62)
        .map(|seq| {
            serde_json::json!({
                "id": new_id(seq, 98), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "node": "n1", "seq": seq,
                "message": {"msgType": "login", "pad": pad}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn readyz_says_disk_full_for_the_store_exactly_while_its_batches_are_refused() {
    let Some(store) = Tmpfs::mount("2m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\nack_timeout_ms = 2000\n[[destinations]]\ntype = \"store\"\nname = \"audit\"\npath = {:?}\n",
            store.path().join("store")
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let addr = server.addr.clone();
    let small = |seq: u64| event_line(&new_id(seq, 98), "n1", seq);
    assert_eq!(post_events(&addr, &small(1), None).unwrap().0, 200);
    store.fill();
    std::thread::sleep(Duration::from_millis(1100));

    // The store's last page still takes a small batch: the server is ready.
    let (status, answer) = post_events(&addr, &small(100), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = readyz(&addr);
    assert_eq!(
        status,
        200,
        "batches are taken, so the server is ready: {answer}\n{}",
        server.stderr()
    );

    // A batch that does not fit: refused for the full disk, and so is the next.
    let (status, answer) = post_events(&addr, &big_batch(), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("disk_full")),
        "{answer}"
    );
    let (status, answer) = post_events(&addr, &small(101), None).unwrap();
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("disk_full")),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("store destination \"audit\""),
        "{answer}"
    );

    // And /readyz says so, naming the store (a verdict may be a second old).
    let until = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        let (status, answer) = readyz(&addr);
        if status == 503 || Instant::now() > until {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(answer["reason"], "disk_full", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("store destination \"audit\": its disk is full"),
        "{answer}"
    );
}
