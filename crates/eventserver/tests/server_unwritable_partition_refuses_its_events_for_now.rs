//! A partition folder the server may not write (a day folder restored as another user,
//! its mode reset, or made immutable: `EACCES`/`EPERM`) refuses only the events that go
//! there, and only for now: their batch is answered `503 refused_for_now` naming each of
//! them with the folder and the OS error (a node keeps them and sends them again), the
//! other events of the batch are stored, every later batch of any node is stored at once
//! (never a store stuck retrying at the head of its queue, never `503 ack_timeout` for
//! everybody), and once an operator fixes the folder the batch sent again stores the
//! refused events and answers the others as duplicates.

use crate::server_support;

use serde_json::Value;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_partition_refuses_its_events_for_now_and_nothing_else() {
    let s = start(&format!("ack_timeout_ms = 5000\n{STORE}")).await;
    // The day folder exists (an earlier hour was stored); the 11 o'clock folder not yet.
    let Some((_, locked)) = lock_a_day_folder(&s).await else {
        return;
    };

    let [blocked, other] = blocked_and_other();
    let batch = ndjson(&[blocked.clone(), other.clone()]);
    let (status, headers, body) = post(&s, batch.clone(), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "refused_for_now", "{body}");
    assert_eq!(headers["retry-after"], "30", "{body}");
    assert_eq!(body["line"], 1, "{body}");
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["id"], blocked["id"]);
    let reason = events[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("generic/_none/2026/11/30/11") && reason.contains("os error"),
        "the reason names the folder and the OS error: {reason}"
    );
    let ids = stored_ids(&s.store());
    assert_eq!(ids.get(other["id"].as_str().unwrap()), Some(&1), "{ids:?}");
    assert_eq!(ids.get(blocked["id"].as_str().unwrap()), None, "{ids:?}");

    // Another node right after, into a writable folder: stored at once.
    let (status, _, body) = post(
        &s,
        ndjson(&[at(event("n2", 1), "2026-11-30T10:30:00Z")]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let stats: Value = get_json(&s, "/v1/stats").await;
    assert_eq!(stats["destinations"][0]["handedBack"], 1, "{stats}");
    assert_eq!(stats["destinations"][0]["deadLettered"], 0, "{stats}");
    let store = stats["stores"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(store["eventsRefused"], 1, "{stats}");

    // The operator fixes the folder; the node sends the batch again.
    drop(locked);
    let (status, _, body) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    let ids = stored_ids(&s.store());
    for e in [&blocked, &other] {
        assert_eq!(ids.get(e["id"].as_str().unwrap()), Some(&1), "{ids:?}");
    }
    assert_eq!(ids.len(), 4, "{ids:?}");
}
