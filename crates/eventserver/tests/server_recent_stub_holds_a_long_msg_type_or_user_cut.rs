//! A stub (the live view's entry for an event over 16 KiB) keeps the event's `msgType`
//! and `authUser`, but cut to their first 256 bytes (on a character boundary), each cut
//! one named in the entry's `cutFields` with its whole size: kept whole, one sender's
//! events with a 1 MiB `authUser` made the view and the stream's buffer hold up to
//! `max_body_bytes` per entry (tens of GiB for the buffer's 4096). The filters still
//! match the whole value; the store keeps the event unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::sse::follow;
use server_support::*;

/// The cut of the view: 256 bytes.
const KEPT: usize = 256;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stubs_long_msg_type_and_user_are_cut_marked_and_stored_whole() {
    let s = start(STORE).await;
    // 1 MiB and more each; the user's 256th byte is inside an "é", so its cut keeps 255.
    let long_user = format!("a{}", "é".repeat(512 * 1024));
    let long_type = "m".repeat(1 << 20);
    // Short enough to be a filter's value in a URL, longer than the cut.
    let mid_user = format!("carol-{}", "c".repeat(1000));
    let mut events = [event("n1", 1), event("n1", 2), event("n1", 3)];
    events[0]["message"] = json!({"msgType": "upload", "authUser": long_user});
    events[1]["message"] = json!({"msgType": long_type, "authUser": "bob"});
    events[2]["message"] =
        json!({"msgType": "upload", "authUser": mid_user, "blob": "b".repeat(20_000)});
    let (status, _, answer) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 3);

    let resp = s.client.get(s.url("/v1/recent")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(
        text.len() < 8 * 1024,
        "3 stubs answered in {} bytes",
        text.len()
    );
    let recent: Value = serde_json::from_str(&text).unwrap();
    let shown: Vec<Value> = recent["events"].as_array().unwrap().clone();
    assert_eq!(shown.len(), 3);
    let expect = |e: &Value, sent: &Value, message: Value, cut: Value| {
        assert_eq!(e["clientEvent"]["id"], sent["id"]);
        assert_eq!(e["clientEvent"]["message"], message, "{e}");
        assert_eq!(e["cutFields"], cut, "{e}");
        assert_eq!(e["omittedBytes"], sent.to_string().len());
    };
    let check = |shown: &[Value]| {
        // Newest first.
        expect(
            &shown[2],
            &events[0],
            json!({"msgType": "upload", "authUser": long_user[..KEPT - 1]}),
            json!({"authUser": long_user.len()}),
        );
        expect(
            &shown[1],
            &events[1],
            json!({"msgType": long_type[..KEPT], "authUser": "bob"}),
            json!({"msgType": long_type.len()}),
        );
        expect(
            &shown[0],
            &events[2],
            json!({"msgType": "upload", "authUser": mid_user[..KEPT]}),
            json!({"authUser": mid_user.len()}),
        );
    };
    check(&shown);

    // The stream shows the same entries (written by its own writer).
    let mut stream = follow(&s, "limit=3", None).await;
    let mut streamed = Vec::new();
    for _ in 0..3 {
        streamed.insert(0, stream.next_event().await);
    }
    check(&streamed);

    // A filter matches the whole value, not the cut one.
    let count = |query: String| {
        let s = &s;
        async move {
            let v = get_json(s, &format!("/v1/recent?{query}")).await;
            v["count"].as_u64().unwrap_or_else(|| panic!("{v}"))
        }
    };
    assert_eq!(count(format!("user={mid_user}")).await, 1);
    assert_eq!(count(format!("user={}", &mid_user[..KEPT])).await, 0);
    assert_eq!(count("msgType=upload".to_owned()).await, 2);
    assert_eq!(count(format!("msgType={}", &long_type[..KEPT])).await, 0);

    // The store holds every event unchanged.
    let stored = stored_records(&s.store());
    for sent in &events {
        let record = stored
            .iter()
            .find(|r| r["clientEvent"]["id"] == sent["id"])
            .unwrap_or_else(|| panic!("{} not stored", sent["id"]));
        assert_eq!(record["clientEvent"], *sent);
    }
}
