//! A restart rebuilds each node's sequence accounting from the store, and must report
//! the same gaps as before it: a real loss (a seq never stored) stays reported, and no
//! gap is counted as given up that never existed. A node's events alternate between
//! topics, so the store holds them in several partition files, read one after another
//! at start (`/work/tryout` case `server-restart-forgets-real-gap.sh`: after a restart
//! the missing seq vanished and ~1 000 `forgottenGaps` appeared).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

const CONFIG: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// `missing`, `gaps`, `forgottenGaps`, `highestContiguousSeq` and `count` of `node`.
async fn accounting(s: &TestServer, node: &str) -> Value {
    let stats = get_json(s, "/v1/stats").await;
    let n = &stats["nodes"][node];
    serde_json::json!({
        "count": n["count"],
        "missing": n["missing"],
        "gaps": n["gaps"],
        "forgottenGaps": n["forgottenGaps"],
        "highestContiguousSeq": n["highestContiguousSeq"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_real_gap_is_reported_the_same_after_a_restart() {
    let s = start(CONFIG).await;
    // seq 1..=4000 but 4, alternating between two topics (two partition folders).
    let events: Vec<Value> = (1..=4000u64)
        .filter(|&seq| seq != 4)
        .map(|seq| {
            let topic = if seq % 2 == 0 { "generic" } else { "authfail" };
            event_with("n-gap", seq, topic, None)
        })
        .collect();
    for chunk in events.chunks(1000) {
        let (status, _, answer) = post(&s, ndjson(chunk), None).await;
        assert_eq!(status, 200, "{answer}");
    }
    let before = accounting(&s, "n-gap").await;
    let expected = serde_json::json!({
        "count": 3999,
        "missing": 1,
        "gaps": [{"first": 4, "last": 4}],
        "forgottenGaps": 0,
        "highestContiguousSeq": 3,
    });
    assert_eq!(before, expected);

    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), CONFIG);
    let s = start_with(dir, config).await;
    assert_eq!(accounting(&s, "n-gap").await, expected, "after the restart");
    assert_eq!(
        metric_sum(&s, "auditrail_server_node_sequence_missing").await,
        1,
        "the metric after the restart"
    );
}
