//! A batch stored only in part shows its stored events in the live view, once, and
//! none of the others: whether it is answered `422 unstorable` (an event whose
//! partition folder cannot be made) or `503 refused_for_now` (an event whose partition
//! folder cannot be written now), `/v1/recent` and a follower of `/v1/stream` get the
//! events that were stored, never a refused one, and the batch sent again (which
//! answers the stored ones as duplicates) shows only what it stores then.

// Helpers outside the test functions unwrap too: a failure there is the test's failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::sse::{follow, Messages};
use server_support::*;

/// The ids of the events in `/v1/recent`, newest first.
async fn recent_ids(s: &TestServer) -> Vec<String> {
    let recent = get_json(s, "/v1/recent?limit=1000").await;
    recent["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["clientEvent"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id(e: &Value) -> String {
    e["id"].as_str().unwrap().to_owned()
}

/// The id of the next event a follower gets.
async fn next_id(f: &mut Messages) -> String {
    id(&f.next_event().await["clientEvent"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answered_422_shows_its_stored_events_live() {
    // A file where the folder of routing key svc-x must go: its events are refused
    // for good.
    let s =
        start_with_a_file_in_the_way("generic/svc-x", &format!("ack_timeout_ms = 5000\n{STORE}"))
            .await;
    let mut follower = follow(&s, "", None).await;

    let stored = event_with("n1", 1, "authfail", Some("svc-a"));
    let refused = event_with("n1", 2, "generic", Some("svc-x"));
    let also_stored = event_with("n1", 3, "generic", None);
    let batch = ndjson(&[stored.clone(), refused.clone(), also_stored.clone()]);
    let (status, _, body) = post(&s, batch.clone(), None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "unstorable", "{body}");
    let ids = stored_ids(&s.store());
    assert_eq!(ids.get(&id(&stored)), Some(&1), "{ids:?}");
    assert_eq!(ids.get(&id(&refused)), None, "{ids:?}");

    assert_eq!(recent_ids(&s).await, [id(&also_stored), id(&stored)]);
    assert_eq!(next_id(&mut follower).await, id(&stored));
    assert_eq!(next_id(&mut follower).await, id(&also_stored));

    // Sent again: the same answer, the stored events answered as duplicates, nothing
    // shown twice (the next event the follower gets is the one sent after).
    let (status, _, body) = post(&s, batch, None).await;
    assert_eq!(status, 422, "{body}");
    let after = event("n2", 1);
    assert_eq!(
        post(&s, ndjson(std::slice::from_ref(&after)), None).await.0,
        200
    );
    assert_eq!(next_id(&mut follower).await, id(&after));
    assert_eq!(
        recent_ids(&s).await,
        [id(&after), id(&also_stored), id(&stored)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answered_503_refused_for_now_shows_its_stored_events_live() {
    let s = start(&format!("ack_timeout_ms = 5000\n{STORE}")).await;
    // The day folder exists (an earlier hour was stored); the 11 o'clock folder not yet.
    let Some((earlier, locked)) = lock_a_day_folder(&s).await else {
        return;
    };
    let mut follower = follow(&s, "", None).await;

    let [blocked, other] = blocked_and_other();
    let batch = ndjson(&[blocked.clone(), other.clone()]);
    let (status, _, body) = post(&s, batch.clone(), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "refused_for_now", "{body}");
    assert_eq!(stored_ids(&s.store()).get(&id(&other)), Some(&1));

    assert_eq!(recent_ids(&s).await, [id(&other), id(&earlier)]);
    assert_eq!(next_id(&mut follower).await, id(&other));

    // The operator fixes the folder; the node sends the batch again: the refused event
    // is stored and shown now, the other (a duplicate) not again.
    drop(locked);
    let (status, _, body) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(next_id(&mut follower).await, id(&blocked));
    assert_eq!(
        recent_ids(&s).await,
        [id(&blocked), id(&other), id(&earlier)]
    );
}
