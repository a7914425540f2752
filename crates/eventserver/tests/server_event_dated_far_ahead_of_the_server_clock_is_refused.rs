//! An event whose `timestamp` is more than `max_timestamp_ahead_s` (default a day)
//! ahead of the server's clock is refused with 400, naming its line and the field, and
//! nothing of the batch is stored: filed under its own (future) time, its partition
//! would never close, so no retention would ever delete it, and size retention would
//! evict every real partition instead. Within the bound it is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::json;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_dated_far_ahead_of_the_server_clock_is_refused_naming_its_line() {
    let s = start(STORE).await;
    let far = at(event("n-future", 2), "9999-12-31T23:59:59.999Z");
    let (status, _, body) = post(&s, ndjson(&[event("n-future", 1), far]), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "timestamp_ahead", "{body}");
    assert_eq!(body["line"], 2, "{body}");
    assert_eq!(body["field"], "timestamp", "{body}");
    assert!(
        stored_ids(&s.store()).is_empty(),
        "nothing of the batch is stored"
    );

    // An hour ahead (a node clock a little off) is within the default bound.
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let soon = soon.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, _, body) = post(&s, ndjson(&[at(event("n-future", 3), &soon)]), None).await;
    assert_eq!((status, &body["accepted"]), (200, &json!(1)), "{body}");
}
