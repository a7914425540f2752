//! A store held at start (its checks failed) is no evidence of what the server stored:
//! its records are not read into the per-node statistics (count, sequence gaps, last
//! seen) nor into de-duplication, while the other store's are. Before, the rebuild at
//! start read every store before the checks, and `/v1/stats` reported the held
//! store's unverified records as the nodes' stored events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support::{new_id, post_events, request, start};
use crate::tamper_support::{log_lines, stop, try_start};

/// Two stores, `a` and `b`, each taking one routing key.
const CONFIG: &str = crate::tamper_support::TWO_KEYED_STORES;

/// Ten events of `key` from a node of its own (`n-<key>`), seqs 1 to 10.
fn ten(key: &str, salt: u64) -> String {
    (1..=10)
        .map(|n| {
            serde_json::json!({
                "id": new_id(n, salt), "timestamp": "2026-11-25T16:55:49.123Z",
                "topic": "generic", "routingKey": key, "node": format!("n-{key}"),
                "seq": n, "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn nodes(addr: &str) -> serde_json::Value {
    let (status, stats) = request(addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{stats}");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    stats["nodes"].clone()
}

#[test]
fn a_held_stores_records_make_no_node_statistics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    for (key, salt) in [("svc-a", 601), ("svc-b", 602)] {
        let (status, answer) = post_events(&server.addr, &ten(key, salt), None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(server.terminate(), 0);
    // Store b's checkpoint log cut to its first line: it is held at the next start.
    let b = dir.path().join("data/b");
    let lines = log_lines(&b);
    std::fs::write(b.join("checkpoints.jsonl"), format!("{}\n", lines[0])).unwrap();

    let server = try_start(dir.path()).unwrap_or_else(|(code, log)| panic!("exit {code}: {log}"));
    let nodes = nodes(&server.addr);
    assert_eq!(nodes["n-svc-a"]["count"], 10, "{nodes}");
    assert_eq!(nodes["n-svc-a"]["highestContiguousSeq"], 10, "{nodes}");
    assert!(
        nodes.get("n-svc-b").is_none(),
        "the held store's unverified records were counted as stored: {nodes}"
    );
    let log = server.stderr();
    assert!(
        log.contains("leave out the records of the store, held at start"),
        "{log}"
    );
    assert_eq!(stop(server), 0);
}
