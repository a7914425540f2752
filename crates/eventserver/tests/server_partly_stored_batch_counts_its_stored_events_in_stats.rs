//! A batch stored only in part counts its stored events in `/v1/stats` (and
//! `/metrics`): per topic (`accepted`, `lastSeen`) and in total, once; an event that
//! was not stored is counted nowhere, and a topic whose events were all refused is not
//! seen. The batch sent again counts the stored ones as duplicates.

// Helpers outside the test functions unwrap too: a failure there is the test's failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partly_stored_batch_counts_its_stored_events_in_the_stats() {
    // A file where the folder of routing key svc-x must go: its events are refused.
    let s =
        start_with_a_file_in_the_way("apicalls/svc-x", &format!("ack_timeout_ms = 5000\n{STORE}"))
            .await;

    let before = event_with("n1", 1, "generic", None);
    assert_eq!(
        post(&s, ndjson(std::slice::from_ref(&before)), None)
            .await
            .0,
        200
    );
    let batch = ndjson(&[
        before,
        event_with("n1", 2, "authfail", Some("svc-a")),
        event_with("n1", 3, "apicalls", Some("svc-x")),
        event_with("n1", 4, "authfail", None),
    ]);
    let (status, _, body) = post(&s, batch.clone(), None).await;
    assert_eq!(status, 422, "{body}");

    let stats: Value = get_json(&s, "/v1/stats").await;
    let topics = &stats["topics"];
    assert_eq!(topics["authfail"]["accepted"], 2, "{stats}");
    assert_eq!(topics["authfail"]["duplicates"], 0, "{stats}");
    assert!(topics["authfail"]["lastSeen"].is_string(), "{stats}");
    assert_eq!(
        (
            &topics["generic"]["accepted"],
            &topics["generic"]["duplicates"]
        ),
        (&1.into(), &1.into()),
        "{stats}"
    );
    assert!(
        topics.get("apicalls").is_none(),
        "a topic whose only event was refused is not seen: {stats}"
    );
    assert_eq!(
        (&stats["accepted"], &stats["duplicates"]),
        (&3.into(), &1.into())
    );
    assert_eq!(
        metric(&s, "auditrail_server_events_accepted_total").await,
        3
    );

    // Sent again: the stored ones are duplicates now, the refused one still refused.
    let (status, _, body) = post(&s, batch, None).await;
    assert_eq!(status, 422, "{body}");
    let stats: Value = get_json(&s, "/v1/stats").await;
    let topics = &stats["topics"];
    assert_eq!(
        (
            &topics["authfail"]["accepted"],
            &topics["authfail"]["duplicates"]
        ),
        (&2.into(), &2.into()),
        "{stats}"
    );
    assert!(topics.get("apicalls").is_none(), "{stats}");
    assert_eq!(
        (&stats["accepted"], &stats["duplicates"]),
        (&3.into(), &4.into())
    );
}
