//! An untouched store verifies clean after `kill -9` of the server while clients send,
//! a restart (whose recovery cuts any torn tail and re-checkpoints the recovered head),
//! more traffic, and a graceful stop: the torn-tail cut keeps the chain valid.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serve_support::*;

fn send_batches(addr: &str, salt: u64, batches: u64) -> usize {
    let mut ok = 0;
    for b in 0..batches {
        let body: String = (0..100)
            .map(|i| event_line(&new_id(b * 100 + i, salt), "node-v", b * 100 + i + 1) + "\n")
            .collect();
        if matches!(post_events(addr, &body, None), Ok((200, _))) {
            ok += 1;
        }
    }
    ok
}

#[test]
fn a_store_killed_mid_write_and_restarted_verifies_clean() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let addr = server.addr.clone();
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3u64)
        .map(|c| {
            let (addr, acked, stop) = (addr.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for b in 0..100_000u64 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let body: String = (0..200)
                        .map(|i| {
                            event_line(
                                &new_id(b * 200 + i, 100 + c),
                                &format!("node-{c}"),
                                b * 200 + i + 1,
                            ) + "\n"
                        })
                        .collect();
                    match post_events(&addr, &body, None) {
                        Ok((200, _)) => {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => break,
                    }
                }
            })
        })
        .collect();
    // Kill while the clients are still sending, once some batches were acknowledged.
    let until = Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::SeqCst) < 10 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    assert!(acked.load(Ordering::SeqCst) >= 10);

    let server = start(dir.path(), &["--data-dir", "data"]);
    assert_eq!(send_batches(&server.addr, 7, 5), 5);
    assert_eq!(server.terminate(), 0);

    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["keys", "export", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "verify",
            data.to_str().unwrap(),
            "--public-key",
            key.trim(),
            "--json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["ok"], true);
    let store = &report["stores"][0];
    assert!(
        store["records"].as_u64().unwrap() >= 10 * 200 + 500,
        "{report:#}"
    );
    // The final checkpoint vouches for every record.
    assert_eq!(store["lastCheckpointSeq"], store["lastSeq"], "{report:#}");
}
