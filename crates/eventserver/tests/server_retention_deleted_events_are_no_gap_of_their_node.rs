//! Events a retention deleted (a signed deletion) are not missing from their node's
//! sequence: `/v1/stats` counts them as `deleted`, keeps them in `count` (events
//! stored: a counter, which a deletion does not make go down), and says the same after
//! a restart as before it (`/work/tryout` case
//! `s48-edge-g/01-retention-reported-as-missing-events.sh`: after the restart every
//! deleted event was a gap, `missing` 10 and the "node's events are missing" alert
//! for good; and `count` went down by the deleted events at the restart).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::server_support;

use auditrail_core::Timestamp;
use serde_json::Value;
use server_support::*;

const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n";
const WITH_RETENTION: &str =
    "[[destinations]]\ntype = \"store\"\npath = \"store\"\nretention = \"1d\"\n";

/// `hours` before now, as an event's timestamp.
fn hours_ago(hours: i64) -> String {
    Timestamp::from_unix_millis(Timestamp::now().unix_millis() - hours * 3_600_000)
        .unwrap()
        .to_string()
}

/// What `/v1/stats` says of node `n1`'s sequence.
async fn n1(s: &TestServer) -> Value {
    let stats = get_json(s, "/v1/stats").await;
    let n = &stats["nodes"]["n1"];
    serde_json::json!({
        "count": n["count"],
        "deleted": n["deleted"],
        "missing": n["missing"],
        "gaps": n["gaps"],
        "highestContiguousSeq": n["highestContiguousSeq"],
        "highestSeq": n["highestSeq"],
    })
}

/// Records the server's retention deleted so far (its metric).
async fn records_deleted(s: &TestServer) -> u64 {
    metrics_text(s)
        .await
        .lines()
        .filter(|l| l.starts_with("auditrail_server_store_retention_records_deleted"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_deleted_by_retention_are_counted_as_deleted_before_and_after_a_restart() {
    let s = start(STORE).await;
    // seq 1..=10 ten days old, 11..=20 an hour old, and 21 never sent... but 22 is: a
    // real gap, which must stay one.
    let old = hours_ago(240);
    let new = hours_ago(1);
    let events: Vec<Value> = (1..=22u64)
        .filter(|&seq| seq != 21)
        .map(|seq| at(event("n1", seq), if seq <= 10 { &old } else { &new }))
        .collect();
    let (status, _, answer) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{answer}");
    let dir = s.dir;
    s.running.shutdown().await;

    // Retention runs at start: the ten-day-old partition goes.
    let config = config_from(dir.path(), WITH_RETENTION);
    let s = start_with(dir, config).await;
    let mut deleted = 0;
    for _ in 0..600 {
        deleted = records_deleted(&s).await;
        if deleted > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(deleted, 10, "retention deleted the old partition");
    let expected = serde_json::json!({
        "count": 21,
        "deleted": 10,
        "missing": 1,
        "gaps": [{"first": 21, "last": 21}],
        "highestContiguousSeq": 20,
        "highestSeq": 22,
    });
    assert_eq!(
        n1(&s).await,
        expected,
        "after the retention, before a restart"
    );

    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), STORE);
    let s = start_with(dir, config).await;
    assert_eq!(n1(&s).await, expected, "after the restart");
    assert_eq!(
        metric_sum(&s, "auditrail_server_node_sequence_missing").await,
        1,
        "the metric after the restart"
    );
    assert_eq!(
        metric_sum(&s, "auditrail_server_node_sequence_deleted").await,
        10
    );
    s.running.shutdown().await;
}
