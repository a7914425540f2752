//! A node run killed after the event that carries its crash announcement was spooled,
//! but before the node recorded that, makes the next run announce the same `first`
//! again with its own reservation taken in (a later `last`). Both announcements reach
//! the server. The numbers only the first one shows unused are abandoned, not missing:
//! the server keeps every announcement, live and after a restart rebuilt its state
//! from the store. (Keyed by `first`, the later announcement replaced the earlier one,
//! and a million never-assigned numbers were reported as missing events; found by the
//! crash torture of the node, `/work/tryout/crash/torture.py node`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::{event_line, new_id, post_events, request, start};

const NODE: &str = "node-rerun";

fn node_stats(addr: &str) -> serde_json::Value {
    let (status, body) = request(addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["nodes"][NODE].clone()
}

/// An event of `NODE` with `seq`, announcing `abandoned` (first, last) if given.
fn event(n: u64, seq: u64, abandoned: Option<(u64, u64)>) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&event_line(&new_id(n, 7), NODE, seq)).unwrap();
    if let Some((first, last)) = abandoned {
        v["abandonedSeqs"] = serde_json::json!({"first": first, "last": last});
    }
    v.to_string() + "\n"
}

fn post(addr: &str, body: &str) {
    let (status, answer) = post_events(addr, body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
}

fn assert_truthful(stats: &serde_json::Value, when: &str) {
    // Run A assigned 1..=10 and was killed: its reservation 1..=1000 ends at 1000.
    // Run B's first event (1001) announces A; B was killed right after spooling it,
    // before recording that, so run C announces A's first again with B's reservation
    // 1001..=2000 taken in. Nothing was assigned and lost: no number is missing.
    assert_eq!(stats["count"], 12, "{when}: {stats}");
    assert_eq!(stats["missing"], 0, "{when}: {stats}");
    assert_eq!(stats["gaps"], serde_json::json!([]), "{when}: {stats}");
    assert_eq!(
        stats["abandonedRanges"],
        serde_json::json!([{"first": 11, "last": 1000}, {"first": 1002, "last": 2000}]),
        "{when}: {stats}"
    );
    assert_eq!(stats["abandoned"], 990 + 999, "{when}: {stats}");
}

#[test]
fn a_repeated_first_does_not_turn_abandoned_numbers_into_missing_ones() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path(), &["--data-dir", "data"]);
    let run_a: String = (1..=10).map(|s| event(s, s, None)).collect();
    post(&server.addr, &run_a);
    post(&server.addr, &event(1001, 1001, Some((1, 1000))));
    post(&server.addr, &event(2001, 2001, Some((1, 2000))));
    assert_truthful(&node_stats(&server.addr), "live");

    // The same after a restart: the node table is rebuilt from the store.
    server.kill9();
    let server = start(root.path(), &["--data-dir", "data"]);
    assert_truthful(&node_stats(&server.addr), "after a restart");
    assert_eq!(server.terminate(), 0);
}
