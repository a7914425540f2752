//! A UTF-8 byte order mark (U+FEFF) at the start of a body is skipped, as RFC 8259
//! (section 8.1) lets a parser do: editors and Windows tools write one at the start of
//! a file, and a file of events posted as it is was refused as "expected value at line
//! 1 column 1", naming nothing the sender could see. Elsewhere (a line of files joined
//! together) it is refused naming the line and the mark. Each event is stored as sent,
//! without the mark, and the live view shows it whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const BOM: &str = "\u{feff}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_starting_with_a_byte_order_mark_is_stored_as_without_it() {
    let s = start(STORE).await;
    let events = [event("n1", 1), event("n1", 2)];
    let (status, _, answer) = post(&s, format!("{BOM}{}", ndjson(&events)), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 2, "{answer}");
    let stored = stored_records(&s.store());
    let first = stored
        .iter()
        .find(|r| r["clientEvent"]["id"] == events[0]["id"])
        .expect("the first event is stored");
    assert_eq!(first["clientEvent"], events[0], "stored as sent");
    // The live view slices each event out of the body: the first one whole, mark left out.
    let recent = get_json(&s, "/v1/recent").await;
    let shown: Vec<_> = recent["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["clientEvent"].clone())
        .collect();
    assert!(shown.contains(&events[0]), "{recent}");

    // An array, with or without its content type, likewise.
    let array = serde_json::json!([event("n1", 3)]).to_string();
    for content_type in [Some("application/json"), None] {
        let mut req = s
            .client
            .post(s.url("/v1/events"))
            .body(format!("{BOM}{array}"));
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{content_type:?}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_order_mark_at_the_start_of_another_line_is_named() {
    let s = start(STORE).await;
    let body = format!(
        "{}{BOM}{}",
        ndjson(&[event("n1", 1)]),
        ndjson(&[event("n1", 2)])
    );
    let (status, _, answer) = post(&s, body, None).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_event", "{answer}");
    assert_eq!(answer["line"], 2, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("byte order mark"), "{message}");
    assert!(
        stored_ids(&s.store()).is_empty(),
        "a batch is all or nothing"
    );
}
