//! `kill -9` while clients send, then restart: every event that got a 200 is stored
//! exactly once, no file is corrupt, and re-sending the acknowledged batches after the
//! restart stores nothing new.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::serve_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serve_support::*;

#[test]
fn every_acknowledged_event_survives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let addr = server.addr.clone();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let acked_batches = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let (addr, acked, acked_batches, stop) = (
                addr.clone(),
                acked.clone(),
                acked_batches.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let mut sent_after_ack = Vec::new();
                for b in 0..10_000u64 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let ids: Vec<String> = (0..200).map(|i| new_id(b * 200 + i, c)).collect();
                    let body: String = ids
                        .iter()
                        .enumerate()
                        .map(|(i, id)| {
                            event_line(id, &format!("node-{c}"), b * 200 + i as u64 + 1) + "\n"
                        })
                        .collect();
                    match post_events(&addr, &body, None) {
                        Ok((200, _)) => {
                            acked.lock().unwrap().extend(ids);
                            acked_batches.fetch_add(1, Ordering::SeqCst);
                            sent_after_ack.push(body);
                        }
                        // The server is gone: this batch's fate is unknown, which is fine.
                        _ => break,
                    }
                }
                sent_after_ack
            })
        })
        .collect();
    // Kill once several batches were acknowledged, while the clients keep sending.
    let until = Instant::now() + Duration::from_secs(60);
    while acked_batches.load(Ordering::SeqCst) < 12 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    let bodies: Vec<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 12 * 200);

    // Restart: recovery cuts any torn tail; every line must parse and every
    // acknowledged event must be there exactly once.
    let server = start(dir.path(), &["--data-dir", "data"]);
    let ids = stored_ids(&dir.path().join("data/store"));
    for id in &acked {
        assert_eq!(
            ids.get(id),
            Some(&1),
            "acknowledged event {id} stored {:?} times",
            ids.get(id)
        );
    }
    assert!(ids.values().all(|&n| n == 1), "an event is stored twice");
    // Clients retry what they believe was lost; here, re-send acknowledged batches.
    for body in bodies.iter().take(5) {
        let (status, resp) = post_events(&server.addr, body, None).unwrap();
        assert_eq!(status, 200);
        assert_eq!(resp["accepted"], 0, "{resp}");
    }
    assert_eq!(server.terminate(), 0);
}
