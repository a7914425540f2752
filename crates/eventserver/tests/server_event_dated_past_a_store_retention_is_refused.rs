//! An event dated so far back that a store taking it would delete it at its next
//! retention pass (its time partition ended before retention's cut-off: a node whose
//! clock is days behind) is refused with 400 `timestamp_past_retention`, naming its
//! line, the field, the store and its retention, and nothing of the batch is stored.
//! Before, it was answered `200 durable` and deleted at the next start (or within ten
//! minutes): an acknowledged event lost because of its timestamp (`/work/tryout` case
//! `reloadtry/01-node-clock-behind-acked-then-deleted-by-retention.sh`). An event as
//! old going only to a store that keeps it longer, or one within the retention, is
//! stored and still there after a restart (retention runs at start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use auditrail_core::Timestamp;
use server_support::*;

const STORES: &str = "[[destinations]]\ntype = \"store\"\nname = \"short\"\npath = \"short\"\n\
    topics = [\"generic\"]\nretention = \"1d\"\n\
    [[destinations]]\ntype = \"store\"\nname = \"long\"\npath = \"long\"\n\
    topics = [\"billing\"]\nretention = \"30d\"\n";

/// `hours` before now, as an event's timestamp.
fn hours_ago(hours: i64) -> String {
    Timestamp::from_unix_millis(Timestamp::now().unix_millis() - hours * 3_600_000)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_a_store_would_delete_at_its_next_retention_pass_is_refused() {
    let s = start(STORES).await;
    let fresh = at(event("n-behind", 1), &hours_ago(0));
    let behind = at(event("n-behind", 2), &hours_ago(72));
    let (status, _, body) = post(&s, ndjson(&[fresh, behind]), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "timestamp_past_retention", "{body}");
    assert_eq!(body["line"], 2, "{body}");
    assert_eq!(body["field"], "timestamp", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("\"short\"") && message.contains("\"1d\"") && message.contains("clock"),
        "names the store, its retention and what to fix: {message}"
    );
    assert!(
        stored_ids(&s.dir.path().join("data/short")).is_empty(),
        "nothing of the batch is stored"
    );

    // As old, but going to the store that keeps 30 days; and within the short one's day.
    let kept_long = at(event_with("n-behind", 3, "billing", None), &hours_ago(72));
    let kept_short = at(event("n-behind", 4), &hours_ago(12));
    let ids = [kept_long["id"].clone(), kept_short["id"].clone()];
    let (status, _, body) = post(&s, ndjson(&[kept_long, kept_short]), None).await;
    assert_eq!(status, 200, "{body}");

    // Retention runs at start: what was acknowledged is still there.
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), STORES);
    let s = start_with(dir, config).await;
    let mut stored = stored_ids(&s.dir.path().join("data/long"));
    stored.extend(stored_ids(&s.dir.path().join("data/short")));
    for id in ids {
        assert_eq!(stored.get(id.as_str().unwrap()), Some(&1), "{id} kept");
    }
    s.running.shutdown().await;
}
