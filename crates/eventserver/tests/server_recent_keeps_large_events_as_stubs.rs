//! The live view (`/v1/recent`, `/v1/stream`, the console) is bounded in bytes, not only
//! in events: an event larger than 16 KiB is kept there as a stub (its envelope,
//! `msgType` and `authUser`, with `omittedBytes`), so that no client can make the server
//! hold 1000 events of up to `max_body_bytes` each. The store keeps the whole event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_over_16_kib_are_shown_as_stubs_and_stored_whole() {
    let s = start(STORE).await;
    let blob = "b".repeat(200 * 1024);
    let mut events = Vec::new();
    for seq in 1..=20u64 {
        let mut e = event("n-large", seq);
        e["message"] = json!({"msgType": "upload", "authUser": "bob", "blob": blob});
        events.push(e);
    }
    let mut small = event("n-small", 1);
    small["message"] = json!({"msgType": "login", "authUser": "alice"});
    events.push(small.clone());
    let (status, _, answer) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 21);

    let resp = s
        .client
        .get(s.url("/v1/recent?limit=1000"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        text.len() < 64 * 1024,
        "21 events, 20 of them 200 KiB each, answered in {} bytes",
        text.len()
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let shown = v["events"].as_array().unwrap();
    assert_eq!(shown.len(), 21);
    // Newest first: the small event whole, then the stubs, each naming its event.
    assert_eq!(shown[0]["clientEvent"], small);
    assert!(shown[0].get("omittedBytes").is_none());
    for (e, sent) in shown[1..].iter().zip(events[..20].iter().rev()) {
        let c = &e["clientEvent"];
        assert_eq!(c["id"], sent["id"]);
        assert_eq!(c["seq"], sent["seq"]);
        assert_eq!(
            c["message"],
            json!({"msgType": "upload", "authUser": "bob"})
        );
        assert_eq!(e["omittedBytes"], sent.to_string().len(), "{e}");
    }
    // The view's filters still see a stub's user and msgType.
    let resp = s
        .client
        .get(s.url("/v1/recent?user=bob&msgType=upload"))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["count"], 20);
    // The store holds every event whole.
    let stored = stored_records(&s.store());
    let whole = stored
        .iter()
        .filter(|r| r["clientEvent"]["message"]["blob"].as_str() == Some(blob.as_str()))
        .count();
    assert_eq!(whole, 20);
}
