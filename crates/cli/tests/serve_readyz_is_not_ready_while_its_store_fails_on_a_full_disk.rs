//! The data folder's disk nearly full (a few KiB left: a real tmpfs filled up): every
//! batch failed with `ENOSPC` and was retried, its senders got `503 ack_timeout`, yet
//! `/readyz` answered `200 ready`, since its probe's one 4 KiB block still fit; a load
//! balancer kept sending there and the not-ready alert never fired. docs/protocol.md:
//! `/readyz` is `200` "when a batch sent now can be stored", `disk_full` otherwise. Now
//! a store whose last batch failed on a full disk, with none written since, makes the
//! server not ready (`disk_full`, naming the destination), until the retried batch is
//! written once there is space again. (Its only store: beside a store that takes
//! batches, a full one is named under `degraded` and the server stays ready.)
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::Tmpfs;
use crate::serve_support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, request, start};

/// Writes `file` until the disk is full, then frees `keep` bytes of it.
fn fill_leaving(file: &Path, keep: u64) {
    let mut f = std::fs::File::create(file).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&block) {
            assert_eq!(e.raw_os_error(), Some(28), "{e}");
            break;
        }
    }
    let len = f.metadata().unwrap().len();
    f.set_len(len - keep).unwrap();
}

fn readyz(addr: &str) -> (u16, serde_json::Value) {
    let (status, body) = request(addr, "GET", "/readyz", &[], b"").unwrap();
    (status, serde_json::from_str(&body).unwrap())
}

/// Asks `/readyz` until it answers `status` (bounded: a verdict is kept up to a second,
/// and a retried batch waits its back-off); its last answer.
fn readyz_until(addr: &str, status: u16, within: Duration) -> serde_json::Value {
    let until = Instant::now() + within;
    loop {
        let (s, answer) = readyz(addr);
        if s == status || Instant::now() > until {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn readyz_is_503_while_a_store_cannot_write_a_batch_on_a_full_disk() {
    let Some(fs) = Tmpfs::mount("8m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path();
    std::fs::write(
        dir.join("server.toml"),
        "data_dir = \"data\"\nack_timeout_ms = 2000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir, &["--config", "server.toml"]);
    let addr = server.addr.clone();
    assert_eq!(
        post_events(&addr, &event_line(&new_id(1, 93), "n1", 1), None)
            .unwrap()
            .0,
        200
    );
    assert_eq!(readyz(&addr).0, 200);

    // 12 KiB left: the probe's block fits, a batch of 60 KiB does not.
    let filler = dir.join("filler");
    fill_leaving(&filler, 12 * 1024);
    let pad = "x".repeat(1000);
    let batch: Vec<String> = (2..62)
        .map(|seq| {
            serde_json::json!({
                "id": new_id(seq, 93), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "node": "n1", "seq": seq,
                "message": {"msgType": "login", "pad": pad}
            })
            .to_string()
        })
        .collect();
    let (status, answer) = post_events(&addr, &batch.join("\n"), None).unwrap();
    assert_eq!(status, 503, "{answer}");

    let answer = readyz_until(&addr, 503, Duration::from_secs(10));
    assert_eq!(
        answer["status"],
        "not_ready",
        "{answer}\n{}",
        server.stderr()
    );
    assert_eq!(answer["reason"], "disk_full", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("store destination \"store-0\"") && message.contains("disk is full"),
        "{answer}"
    );

    // Space again: the retried batch is written, and the server is ready.
    std::fs::remove_file(&filler).unwrap();
    let answer = readyz_until(&addr, 200, Duration::from_secs(60));
    assert_eq!(answer["status"], "ready", "{answer}\n{}", server.stderr());
    assert_eq!(
        post_events(&addr, &batch.join("\n"), None).unwrap().0,
        200,
        "the batch is stored (its retry answered as duplicates)"
    );
}
