//! A node that sent `seq` 2^64 - 1 after 4 (a bug, its sequence state replaced, a
//! forged event) was reported with about 1.8e19 `missing` events, the value of the
//! "gaps in a node's sequence" alert (`auditrail_server_node_sequence_missing`), for one
//! event. A gap of more than 2^24 numbers is now a `seqJumps` entry, counted by
//! `auditrail_server_node_sequence_jumps`, and `missing` counts the real gap (3) alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{event_line, new_id, post_events, request, start};

const SALT: u64 = 643;

#[test]
fn a_jump_to_the_last_seq_is_a_seq_jump_not_missing_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body: String = [1, 2, 4, u64::MAX]
        .iter()
        .enumerate()
        .map(|(i, &seq)| event_line(&new_id(i as u64 + 1, SALT), "n1", seq) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let (_, stats) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    let n1 = &stats["nodes"]["n1"];
    assert_eq!(n1["missing"], 1, "{n1}");
    assert_eq!(
        n1["gaps"],
        serde_json::json!([{"first": 3, "last": 3}]),
        "{n1}"
    );
    assert_eq!(
        n1["seqJumps"],
        serde_json::json!([{"first": 5u64, "last": u64::MAX - 1}]),
        "{n1}"
    );
    assert_eq!(n1["highestSeq"], u64::MAX, "{n1}");

    let (_, metrics) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    for (metric, value) in [
        ("auditrail_server_node_sequence_missing", "1"),
        ("auditrail_server_node_sequence_jumps", "1"),
    ] {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&format!("{metric}{{node=\"n1\"}}")))
            .unwrap_or_else(|| panic!("{metric}: {metrics}"));
        assert!(line.ends_with(&format!(" {value}")), "{line}");
    }
    assert_eq!(server.terminate(), 0);
}
