//! Events `auditrail store prune` deleted on a stopped server's store (a signed
//! deletion) are not missing from their node's sequence when the server starts again:
//! `/v1/stats` counts them as `deleted` and keeps them in `count` of events stored (the
//! prune lists each node's deleted numbers and records in the store,
//! `.deleted-seqs.jsonl`). Without that list
//! every one was a gap after the start, and the "a node's events are missing" alert
//! fired for good (`/work/tryout` case
//! `s48-edge-g/01-retention-reported-as-missing-events.sh`, there by the server's own
//! retention).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{prune, write_config};
use serve_support::{new_id, post_events, request, start};

/// Events of node `n1` numbered `seqs`, dated `day`.
fn events(day: &str, seqs: std::ops::RangeInclusive<u64>) -> String {
    seqs.map(|seq| {
        serde_json::json!({
            "id": new_id(seq, 77), "timestamp": format!("{day}T10:00:{:02}.000Z", seq % 60),
            "topic": "generic", "node": "n1", "seq": seq,
            "message": {"msgType": "login", "authUser": "alice"}
        })
        .to_string()
            + "\n"
    })
    .collect()
}

#[test]
fn numbers_pruned_offline_are_deleted_not_missing_when_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = start(dir.path(), &["--config", "server.toml"]);
    for body in [events("2025-01-01", 1..=10), events("2025-01-02", 11..=20)] {
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(tamper_support::stop(server), 0);
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(10 records"), "{out}");

    let server = start(dir.path(), &["--config", "server.toml"]);
    let (status, body) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    let n1 = &stats["nodes"]["n1"];
    assert_eq!(
        serde_json::json!({
            "count": n1["count"], "deleted": n1["deleted"], "missing": n1["missing"],
            "gaps": n1["gaps"], "highestContiguousSeq": n1["highestContiguousSeq"],
        }),
        serde_json::json!({
            "count": 20, "deleted": 10, "missing": 0, "gaps": [], "highestContiguousSeq": 20,
        }),
        "{n1:#}"
    );
    assert_eq!(tamper_support::stop(server), 0);
}
