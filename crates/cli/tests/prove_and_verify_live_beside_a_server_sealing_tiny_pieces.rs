//! `auditrail prove` and `auditrail verify --live` beside a running server that seals
//! its checkpoint log into pieces often (`piece_bytes = 4096`): every bundle `prove`
//! writes verifies with `verify --proof`, no run claims tampering, and `verify --live`
//! passes the healthy store. They listed the sealed pieces, then read the live piece
//! by name: a seal in between moved lines out of their sight (`prove` wrote bundles
//! whose tree was not the line's, or said a signature did not hold; `verify --live`
//! said checkpoints were removed). A bounded number of runs: this test can pass by luck
//! without the fix; the reader's seam test
//! (`crates/store/src/checkpoint_pieces.rs`, `a_seal_between_the_listing_steps_...`)
//! is the one that fails without it every time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::retention_support::run;
use crate::serve_support::{event_line, new_id, post_events, start};

const CONFIG: &str = "data_dir = \"data\"\n[checkpoints]\npiece_bytes = 4096\n[[destinations]]\nname = \"store\"\ntype = \"store\"\npath = \"store\"\n";
const SALT: u64 = 6104;
const RUNS: u64 = 12;

#[test]
fn every_bundle_written_verifies_and_verify_live_passes_while_pieces_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let stop = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicU64::new(0));
    let sender = {
        let (addr, stop, posted) = (server.addr.clone(), stop.clone(), posted.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                // Batches of 2: a seal line per batch, a piece sealed every ~10.
                let body: String = (0..2)
                    .map(|_| {
                        n += 1;
                        event_line(&new_id(n, SALT), "n1", n) + "\n"
                    })
                    .collect();
                let (status, answer) = post_events(&addr, &body, None).unwrap();
                assert_eq!(status, 200, "{answer}");
                posted.store(n, Ordering::SeqCst);
            }
        })
    };
    while posted.load(Ordering::SeqCst) < 40 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim().to_string();
    let mut failures = Vec::new();
    for i in 0..RUNS {
        let id = new_id(posted.load(Ordering::SeqCst), SALT);
        let file = format!("proof.{i}.json");
        let (code, out) = run(
            dir.path(),
            &[
                "prove",
                "--store",
                "data/store",
                "--event-id",
                &id,
                "--out",
                &file,
            ],
        );
        if code != 0 {
            failures.push(format!("prove run {i} refused a healthy store: {out}"));
        } else {
            let (code, out) = run(
                dir.path(),
                &["verify", "--proof", &file, "--public-key", &key],
            );
            if code != 0 {
                failures.push(format!("bundle {i} written by prove fails: {out}"));
            }
        }
        let (code, out) = run(
            dir.path(),
            &["verify", "data/store", "--live", "--public-key", &key],
        );
        if code != 0 {
            failures.push(format!(
                "verify --live run {i} failed a healthy store: {out}"
            ));
        }
    }
    stop.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    let sealed = auditrail_store::checkpoint_pieces::sealed_pieces(&dir.path().join("data/store"))
        .unwrap()
        .len();
    assert_eq!(server.terminate(), 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        sealed >= 2,
        "the log was sealed {sealed} times: no seal raced"
    );
}
