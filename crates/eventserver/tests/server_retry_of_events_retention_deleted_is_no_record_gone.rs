//! A node that never got the answer to a stored batch (the server killed after its
//! fsync, a proxy that dropped the answer) sends it again. When the server's own
//! retention deleted those records meanwhile (recorded and signed in the checkpoint
//! log), the batch is stored again, as for records gone by hand, but it is no loss:
//! `recordsGone` (whose alert says to run `verify` and restore a backup) stays 0
//! (`/work/tryout` case `s59-edgetry/02-retention-deleted-record-alarms-as-gone.sh`,
//! seen in the crash soak: an ERROR "removed ... by hand" and `recordsGone` 3 for
//! records `retention_max_bytes` deleted).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::server_support;

use auditrail_core::Timestamp;
use serde_json::Value;
use server_support::*;

const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n";
// By size: no cut-off, so the old batch sent again is not refused as past retention.
const WITH_RETENTION: &str =
    "[[destinations]]\ntype = \"store\"\npath = \"store\"\nretention_max_bytes = 1\n";

/// `hours` before now, as an event's timestamp.
fn hours_ago(hours: i64) -> String {
    Timestamp::from_unix_millis(Timestamp::now().unix_millis() - hours * 3_600_000)
        .unwrap()
        .to_string()
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

async fn records_gone(s: &TestServer) -> Value {
    let stats: Value = get_json(s, "/v1/stats").await;
    stats["stores"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()["recordsGone"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sent_again_after_retention_deleted_it_is_stored_again_and_no_record_is_gone() {
    let s = start(STORE).await;
    let old_at = hours_ago(48);
    let old: Vec<Value> = (1..=3u64)
        .map(|seq| at(event("n1", seq), &old_at))
        .collect();
    // A newer partition, so that the old one is not the one holding the newest record
    // (which retention keeps).
    let newer = vec![at(event("n1", 4), &hours_ago(0))];
    for b in [&old, &newer] {
        let (status, _, body) = post(&s, ndjson(b), None).await;
        assert_eq!(status, 200, "{body}");
    }
    let dir = s.dir;
    s.running.shutdown().await;

    // Retention runs at start, after de-duplication was read back from the store.
    let config = config_from(dir.path(), WITH_RETENTION);
    let s = start_with(dir, config).await;
    let mut deleted = 0;
    for _ in 0..600 {
        deleted = records_deleted(&s).await;
        if deleted >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(deleted, 3, "retention deleted the old partition");

    // The node sends the old batch again: stored again, and no record is "gone".
    let (status, _, body) = post(&s, ndjson(&old), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(3), Some(0)),
        "records retention deleted are no duplicates to vouch for: {body}"
    );
    assert_eq!(
        records_gone(&s).await,
        0,
        "records the store's retention deleted (recorded) are not gone by hand"
    );
    s.running.shutdown().await;
}
