//! A retried event sent again to a destination that could not show it holds it (here a
//! `required_key` store that never took it) is counted on `/metrics`, by the
//! destination that took it: `auditrail_server_events_sent_again_total{destination}`.
//! A retry answered as a duplicate is not. Before, nothing counted these events: they
//! were `accepted` in the answer and duplicates in `/v1/stats`, and an operator could
//! not see how often (or where) events were written again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::keyed::{keyed, KEY_A, KEY_B};
use server_support::*;

/// The value of `auditrail_server_events_sent_again_total{destination="<d>"}` (0 when
/// the series is absent).
async fn sent_again(s: &TestServer, destination: &str) -> u64 {
    let series =
        format!("auditrail_server_events_sent_again_total{{destination=\"{destination}\"}} ");
    metrics_text(s)
        .await
        .lines()
        .find_map(|l| l.strip_prefix(&series).map(|v| v.parse().unwrap()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_sent_again_counts_for_the_destination_that_took_it() {
    let s = start(&keyed("")).await;
    let events: Vec<_> = (1..=3)
        .map(|seq| event_with("api-7", seq, "generic", Some("svc-a")))
        .collect();
    let body = ndjson(&events);
    let (status, _, first) = post(&s, body.clone(), Some(KEY_B)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(sent_again(&s, "svc").await, 0);

    let (status, _, again) = post(&s, body.clone(), Some(KEY_A)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["accepted"], 3, "sent again to svc: {again}");
    assert_eq!(sent_again(&s, "svc").await, 3, "{}", metrics_text(&s).await);
    assert_eq!(
        sent_again(&s, "all").await,
        0,
        "all holds them: not written again"
    );

    // Now svc holds them too: a duplicate, not sent again.
    let (status, _, dup) = post(&s, body, Some(KEY_A)).await;
    assert_eq!(status, 200, "{dup}");
    assert_eq!(dup["duplicates"], 3, "{dup}");
    assert_eq!(sent_again(&s, "svc").await, 3);
    s.running.shutdown().await;
}
