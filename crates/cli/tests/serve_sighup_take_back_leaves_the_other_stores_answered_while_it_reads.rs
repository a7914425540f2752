//! While a held store taken back on SIGHUP has its records read into de-duplication,
//! the rest of the server answers: a batch for another store is stored, `/healthz`
//! answers, and a batch for the store being taken back is answered `503 store_held`
//! (its hold is lifted only once its records are read). Then its stored events are
//! duplicates of their resend and a new event of it is stored. Before, the read held
//! de-duplication's lock, which every batch takes on a worker of the async runtime:
//! every batch of every store waited for the whole read (seconds for a few hundred
//! thousand records, minutes for a few GB), and with the workers blocked so did
//! `/healthz`, and the systemd watchdog killed the server in the middle of the read.
//!
//! The read cannot be blocked from outside (the server opens a store's files without
//! blocking and refuses a FIFO among them), so the store is made large enough that its
//! read outlasts a few requests, and the test checks an order, not a duration: a
//! request sent after the log says the read began is answered before the log says it
//! ended (the line written after the records are handed over; before the fix, under
//! the lock every batch waits for, so no batch could be answered before it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{new_id, post_events, request, start, wait_for_log};
use crate::tamper_support::{log_lines, stop, try_start, TWO_STORES};

/// Records in the store taken back: several seconds of reading in a debug build.
const RECORDS: u64 = 100_000;
/// The log line that says the read began (`destinations/resume.rs`).
const READING: &str = "reading its records into de-duplication";
/// The log line that says a store's records were read and handed over.
const READ: &str = "de-duplication state rebuilt from the store";

/// Events `seqs` of `node` on `topic`.
fn events(topic: &str, node: &str, seqs: std::ops::Range<u64>, salt: u64) -> String {
    seqs.map(|n| {
        serde_json::json!({
            "id": new_id(n, salt), "timestamp": "2026-11-25T16:55:49.123Z",
            "topic": topic, "node": node, "seq": n, "message": {"msgType": "login"}
        })
        .to_string()
            + "\n"
    })
    .collect()
}

fn get(addr: &str, path: &str) -> (u16, String) {
    request(addr, "GET", path, &[], b"").unwrap()
}

#[test]
fn other_stores_and_healthz_are_answered_while_a_taken_back_store_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), TWO_STORES).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for first in (1..=RECORDS).step_by(5000) {
        let body = events("generic", "big", first..first + 5000, 631);
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    // Store a's checkpoint log cut to its first line, a copy kept: held at the start.
    let log = dir.path().join("data/a/checkpoints.jsonl");
    let saved = std::fs::read(&log).unwrap();
    let lines = log_lines(&dir.path().join("data/a"));
    std::fs::write(&log, format!("{}\n", lines[0])).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("exit {code}: {log}"));
    let (_, ready) = get(&server.addr, "/readyz");
    assert!(ready.contains("\"held\""), "a is not held: {ready}");
    // Store b's read at start.
    let read_before = server.stderr().matches(READ).count();

    std::fs::write(&log, &saved).unwrap();
    server.hangup();
    wait_for_log(&server, READING);
    // Until the read ends: a batch for b, /healthz, a batch for a; each answer that
    // arrives while the log does not say the read ended was given during the read.
    let (mut stored_during, mut healthy_during, mut held_during) = (0, 0, 0);
    let (mut b_accepted, mut a_accepted) = (0u64, 0u64);
    let mut seq = 1;
    loop {
        let (status, answer) = post_events(
            &server.addr,
            &events("authfail", "other", seq..seq + 5, 632),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "store b's batch: {answer}");
        b_accepted += answer["accepted"].as_u64().unwrap();
        seq += 5;
        let during = server.stderr().matches(READ).count() == read_before;
        stored_during += usize::from(during);
        let (status, body) = get(&server.addr, "/healthz");
        assert_eq!(status, 200, "{body}");
        let during = server.stderr().matches(READ).count() == read_before;
        healthy_during += usize::from(during);
        let (status, answer) = post_events(
            &server.addr,
            &events("generic", "big", RECORDS + 1..RECORDS + 2, 631),
            None,
        )
        .unwrap();
        let during = server.stderr().matches(READ).count() == read_before;
        if !during {
            // Taken back since (or still held, until its attach is over).
            a_accepted += answer["accepted"].as_u64().unwrap_or(0);
            break;
        }
        assert_eq!(
            (status, &answer["error"]),
            (503, &"store_held".into()),
            "a batch for the store being read: {answer}"
        );
        held_during += 1;
    }
    assert!(
        stored_during > 0 && healthy_during > 0 && held_during > 0,
        "answered while the held store was read: {stored_during} batches for store b, {healthy_during} /healthz, {held_during} batches for it (503 store_held): {}",
        server.stderr()
    );

    wait_for_log(&server, "store taken back");
    // Its events stored before the hold are duplicates of their resend (the first and
    // the last batch of them); a new event of it is stored.
    for first in [1, RECORDS - 4999] {
        let body = events("generic", "big", first..first + 5000, 631);
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            (&answer["accepted"], &answer["duplicates"]),
            (&0.into(), &5000.into()),
            "{answer}"
        );
    }
    let body = events("generic", "big", RECORDS + 2..RECORDS + 3, 631);
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!((status, &answer["accepted"]), (200, &1.into()), "{answer}");
    // Each store's events counted once: those read and those stored during the read.
    let (_, stats) = get(&server.addr, "/v1/stats");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats["nodes"]["big"]["count"],
        RECORDS + a_accepted + 1,
        "{stats:#}"
    );
    assert_eq!(stats["nodes"]["big"]["duplicates"], 10_000, "{stats:#}");
    assert_eq!(stats["nodes"]["other"]["count"], b_accepted, "{stats:#}");
    assert_eq!(
        stats["nodes"]["other"]["highestContiguousSeq"],
        seq - 1,
        "{stats:#}"
    );
    assert_eq!(stop(server), 0);
}
