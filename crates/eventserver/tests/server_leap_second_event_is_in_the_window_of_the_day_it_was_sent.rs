//! An event sent with a leap second (`2026-11-23T23:59:60Z`, RFC 3339 section 5.7) is
//! one time for every reader: second 59 of its minute, fraction kept (Java's
//! `ISO_INSTANT` rule, docs/protocol.md). It is stored with that text in the folder of
//! the hour it was sent in, and the query reads the same time, so the window of the day
//! it was sent in finds it and the next day's does not. Before, the stored text said
//! `23:59:60`, the folder hour 23, and the query's time column `2026-11-24T00:00:00`:
//! the day's window left it out by its time, the next day's never opened its folder,
//! and the event was in no daily (or hourly) report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

/// `GET /v1/query` with `params`: status and JSON body.
async fn query(s: &TestServer, params: &[(&str, &str)]) -> (u16, Value) {
    let resp = s
        .client
        .get(s.url("/v1/query"))
        .query(params)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The `events-per-hour` report over `since <= timestamp < until`.
async fn events_per_hour(s: &TestServer, since: &str, until: &str) -> Value {
    let (status, v) = query(
        s,
        &[
            ("report", "events-per-hour"),
            ("since", since),
            ("until", until),
        ],
    )
    .await;
    assert_eq!(status, 200, "{since} to {until}: {v}");
    v["report"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leap_second_event_is_in_the_window_of_the_day_it_was_sent() {
    let s = start(STORE).await;
    let leap = at(event("n-leap", 1), "2026-11-23T23:59:60Z");
    let leap_half = at(event("n-leap", 2), "2026-11-23T23:59:60.5Z");
    let (status, _, body) = post(&s, ndjson(&[leap.clone(), leap_half]), None).await;
    assert_eq!((status, &body["accepted"]), (200, &json!(2)), "{body}");

    // The day it was sent in, and its last hour: both events, in hour 23.
    let hour_23 = json!([{"hour": "2026-11-23T23:00:00.000Z", "node": "n-leap", "events": 2}]);
    assert_eq!(
        events_per_hour(&s, "2026-11-23", "2026-11-24").await,
        hour_23
    );
    assert_eq!(
        events_per_hour(&s, "2026-11-23T23:00:00Z", "2026-11-24T00:00:00Z").await,
        hour_23
    );
    // The next day, and its first hour: neither.
    assert_eq!(
        events_per_hour(&s, "2026-11-24", "2026-11-25").await,
        json!([])
    );
    assert_eq!(
        events_per_hour(&s, "2026-11-24T00:00:00Z", "2026-11-24T01:00:00Z").await,
        json!([])
    );

    // The query's time is the stored text's, and the record is in the hour-23 folder.
    let (status, v) = query(
        &s,
        &[("sql", "SELECT seq, timestamp FROM events ORDER BY seq")],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["rows"],
        json!([
            {"seq": 1, "timestamp": "2026-11-23T23:59:59.000Z"},
            {"seq": 2, "timestamp": "2026-11-23T23:59:59.500Z"},
        ])
    );
    let mut stored: Vec<String> = stored_records(&s.store())
        .iter()
        .map(|r| r["clientEvent"]["timestamp"].as_str().unwrap().to_owned())
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        ["2026-11-23T23:59:59.000Z", "2026-11-23T23:59:59.500Z"]
    );
    let hour_folder = s.store().join("generic/_none/2026/11/23/23");
    assert!(hour_folder.is_dir(), "{}", hour_folder.display());
    assert!(!s.store().join("generic/_none/2026/11/24").exists());

    // De-duplication sees the same time: the event sent again is a duplicate, and so
    // is it sent with the time it is stored at.
    let stored_at = at(leap.clone(), "2026-11-23T23:59:59.000Z");
    for again in [leap, stored_at] {
        let (status, _, body) = post(&s, ndjson(&[again]), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (&body["accepted"], &body["duplicates"]),
            (&json!(0), &json!(1)),
            "{body}"
        );
    }
    assert_eq!(stored_records(&s.store()).len(), 2);
    s.running.shutdown().await;
}
