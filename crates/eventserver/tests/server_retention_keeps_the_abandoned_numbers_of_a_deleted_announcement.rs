//! A node's announcement of abandoned numbers (`abandonedSeqs`: a crashed run's
//! reservation it never used) is a stored record like any other: once retention deleted
//! the partition holding it, the next start no longer knew of it and reported those
//! numbers as `missing` (here 993 of them, and the "node's events are missing" alert for
//! good). The store keeps the announcements of the records its prunes delete
//! (`.deleted-seqs.jsonl`), and `/v1/stats` says the same after a restart as before it:
//! abandoned numbers abandoned, a real loss of the crashed run (below its highest
//! number stored, deleted since) still missing.
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
        "abandoned": n["abandoned"],
        "abandonedRanges": n["abandonedRanges"],
        "highestContiguousSeq": n["highestContiguousSeq"],
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
async fn abandoned_numbers_stay_abandoned_after_retention_deleted_their_announcement() {
    let s = start(STORE).await;
    // Ten days ago: a run stored 1..=3, then a run from 4 stored 4 and 6 (5 was lost)
    // and crashed; the next run's first event, 1000, announced 4..=999. An hour ago:
    // 1001..=1003.
    let old = hours_ago(240);
    let new = hours_ago(1);
    let mut events: Vec<Value> = [1, 2, 3, 4, 6]
        .into_iter()
        .map(|seq| at(event("n1", seq), &old))
        .collect();
    let mut announcing = at(event("n1", 1000), &old);
    announcing["abandonedSeqs"] = serde_json::json!({"first": 4, "last": 999});
    events.push(announcing);
    events.extend((1001..=1003).map(|seq| at(event("n1", seq), &new)));
    let (status, _, answer) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{answer}");
    let stored = serde_json::json!({
        "count": 9,
        "deleted": 0,
        "missing": 1,
        "gaps": [{"first": 5, "last": 5}],
        "abandoned": 993,
        "abandonedRanges": [{"first": 7, "last": 999}],
        "highestContiguousSeq": 4,
    });
    assert_eq!(n1(&s).await, stored, "as sent");
    let dir = s.dir;
    s.running.shutdown().await;

    // Retention runs at start: the ten-day-old partition goes, the announcement with it.
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
    assert_eq!(deleted, 6, "retention deleted the old partition");
    let mut expected = stored;
    expected["deleted"] = 6.into();
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
    s.running.shutdown().await;
}
