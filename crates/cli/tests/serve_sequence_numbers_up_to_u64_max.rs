//! `seq` is any unsigned 64-bit number on the wire (docs/protocol.md), and the server's
//! per-node gap tracking holds for all of them: an event with seq 2^64-1, or an
//! `abandonedSeqs` range ending there, is stored and answered `200` like any other. The
//! tracker used to compute `seq + 1` unchecked: it panicked, the batch was answered
//! `503` with a retry hint, and the node retried the same valid event forever, which
//! stopped its collection. The gap report stays right across a restart (rebuilt from
//! the store).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::{event_line, new_id, post_events, request, start};

const MAX: u64 = u64::MAX;

fn node_stats(addr: &str, node: &str) -> serde_json::Value {
    let (status, body) = request(addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["nodes"][node].clone()
}

fn check(n: &serde_json::Value) {
    assert_eq!(n["count"], 4, "{n}");
    assert_eq!(n["highestSeq"], MAX, "{n}");
    assert_eq!(n["highestContiguousSeq"], 2, "{n}");
    // 3..=MAX-2 were announced as reserved by a crashed run, and the run's highest
    // number (MAX) arrived: every number below it was assigned, so not abandoned; a
    // gap that wide (over 2^24 numbers) is reported as a seq jump, not as missing
    // events (docs/protocol.md, `seqJumps`).
    assert_eq!(n["missing"], 0, "{n}");
    assert_eq!(n["gaps"], serde_json::json!([]), "{n}");
    assert_eq!(
        n["seqJumps"],
        serde_json::json!([{"first": 3, "last": MAX - 2}]),
        "{n}"
    );
    assert_eq!(n["abandoned"], 0, "{n}");
}

#[test]
fn the_largest_sequence_numbers_are_stored_and_tracked() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let mut announcing: serde_json::Value =
        serde_json::from_str(&event_line(&new_id(2, 9), "edge", 2)).unwrap();
    announcing["abandonedSeqs"] = serde_json::json!({"first": 3, "last": MAX});
    for line in [
        event_line(&new_id(1, 9), "edge", 1),
        event_line(&new_id(3, 9), "edge", MAX),
        event_line(&new_id(4, 9), "edge", MAX - 1),
        announcing.to_string(),
    ] {
        let (status, answer) = post_events(&server.addr, &format!("{line}\n"), None).unwrap();
        assert_eq!(status, 200, "{line}: {answer}");
        assert_eq!(answer["accepted"], 1, "{answer}");
    }
    check(&node_stats(&server.addr, "edge"));

    assert_eq!(server.terminate(), 0, "{}", "the server stops cleanly");
    let again = start(dir.path(), &["--data-dir", "data"]);
    check(&node_stats(&again.addr, "edge"));
    assert_eq!(again.terminate(), 0);
}
