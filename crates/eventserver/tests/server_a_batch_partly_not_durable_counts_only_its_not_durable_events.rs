//! A server with a durable store for one topic and a store with a flush policy for
//! another answered a batch of both `durable: false` and nothing more: a node counted
//! the WHOLE batch as not durable, the events the durable store fsynced too. The answer
//! now says how many events of the batch are not on stable storage (`notDurable`):
//! exactly those the flushing store took, and, for a retry answered as duplicates
//! before that store's fsync, exactly those whose originals it holds. A batch only the
//! durable store takes is `durable: true` without the count. Real HTTP, real stores.

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_counts_the_events_the_flushing_store_took_and_no_others() {
    let s = start(
        "[[destinations]]\ntype = \"store\"\nname = \"synced\"\npath = \"synced\"\ntopics = [\"generic\"]\n\n\
         [[destinations]]\ntype = \"store\"\nname = \"lazy\"\npath = \"lazy\"\ntopics = [\"authfail\"]\n\
         flush = { every_bytes = 1048576, every_seconds = 3600 }\n",
    )
    .await;
    let mixed = [
        event_with("n1", 1, "generic", None),
        event_with("n1", 2, "authfail", None),
        event_with("n1", 3, "generic", None),
        event_with("n1", 4, "authfail", None),
        event_with("n1", 5, "generic", None),
    ];
    let (status, _, body) = post(&s, ndjson(&mixed), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 5, "{body}");
    assert_eq!(body["durable"], false, "{body}");
    assert_eq!(
        body["notDurable"], 2,
        "the two `authfail` events only: {body}"
    );

    // The retry of the batch (its answer lost): all duplicates, the flushing store's
    // originals still not fsynced.
    let (status, _, body) = post(&s, ndjson(&mixed), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicates"], 5, "{body}");
    assert_eq!(body["durable"], false, "{body}");
    assert_eq!(body["notDurable"], 2, "{body}");

    let synced = [
        event_with("n1", 6, "generic", None),
        event_with("n1", 7, "generic", None),
    ];
    let (status, _, body) = post(&s, ndjson(&synced), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["durable"], true, "{body}");
    assert!(body.get("notDurable").is_none(), "{body}");
}
