//! The live view (`/v1/recent`, `/v1/stream`, the console's tail) shows each event's
//! `id` and `timestamp` as the store holds them: the id in lower case, the time as its
//! instant in UTC with milliseconds (docs/protocol.md: ids are "stored and answered in
//! lower case"; every reader sees one time). Before, it showed the text as sent: an
//! event sent as `01936F6E-...` at `...T17:55:49.5+01:00` (or a leap second `23:59:60Z`)
//! was shown so live, while the store, receipts and queries know it as `01936f6e-...`
//! at `...T16:55:49.500Z`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::sse::follow;
use server_support::*;

/// The events, spelled as a client may (upper-case id, an offset, a leap second, more
/// digits, lower-case separators, whitespace), each with the `(id, timestamp)` the
/// store writes.
fn sent() -> Vec<(Value, &'static str, &'static str)> {
    [
        (
            "01936F6E-1B2C-7D3E-8F40-00000000000A",
            "2026-11-25T17:55:49.5+01:00",
            "01936f6e-1b2c-7d3e-8f40-00000000000a",
            "2026-11-25T16:55:49.500Z",
        ),
        (
            "01936f6e-1b2c-7d3e-8f40-00000000000b",
            "2026-11-25T23:59:60Z",
            "01936f6e-1b2c-7d3e-8f40-00000000000b",
            "2026-11-25T23:59:59.000Z",
        ),
        (
            "01936f6e-1b2c-7d3e-8f40-00000000000c",
            "2026-11-25t16:55:49.123456789z",
            "01936f6e-1b2c-7d3e-8f40-00000000000c",
            "2026-11-25T16:55:49.123Z",
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (id, ts, stored_id, stored_ts))| {
        let mut e = at(event("n1", i as u64 + 1), ts);
        e["id"] = id.into();
        (e, stored_id, stored_ts)
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_and_stream_show_the_stored_id_and_time() {
    let s = start(STORE).await;
    let mut follower = follow(&s, "", None).await;
    let events = sent();
    // Whitespace around the envelope's fields too, as a pretty-printing client sends.
    let body = events
        .iter()
        .map(|(e, _, _)| serde_json::to_string_pretty(e).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "application/json")
        .body(format!("[{body}]"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let stored: Vec<Value> = stored_records(&s.store())
        .into_iter()
        .map(|r| r["clientEvent"].clone())
        .collect();
    let recent = get_json(&s, "/v1/recent").await;
    let recent = recent["events"].as_array().unwrap();
    assert_eq!(recent.len(), events.len());
    for (i, (_, id, ts)) in events.iter().enumerate() {
        // `/v1/recent` is newest first; the stream in the order stored.
        let live = &recent[events.len() - 1 - i]["clientEvent"];
        let streamed = follower.next_event().await["clientEvent"].clone();
        for (view, shown) in [("recent", live), ("stream", &streamed)] {
            assert_eq!(shown["id"], *id, "{view}: {shown}");
            assert_eq!(shown["timestamp"], *ts, "{view}: {shown}");
            assert!(
                stored.contains(shown),
                "{view}: {shown} is not stored: {stored:?}"
            );
        }
    }
}
