//! A batch refused for its events names every event at fault, not the first alone:
//! the server checks every event (each for its first fault: it does not parse, it is
//! dated past a store's retention or too far ahead, ...) and the refusal's `events`
//! lists each with its own `line`, `error`, `field` and `message`; the first one, in
//! body order, decides the answer's status, `error`, `line` and `field` (what nodes
//! before the list read). Nothing of the batch is stored. Before, the refusal named the
//! first such event only, and a node gave up one event per request. A body with more
//! events at fault than an answer lists (1000) lists the first ones and counts the
//! others in `eventsMore`, so the answer stays small whatever the body held.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use auditrail_core::Timestamp;
use server_support::*;

const STORE: &str =
    "[[destinations]]\ntype = \"store\"\nname = \"short\"\npath = \"short\"\nretention = \"1d\"\n";

/// `hours` from now (negative: before), as an event's timestamp.
fn hours_from_now(hours: i64) -> String {
    Timestamp::from_unix_millis(Timestamp::now().unix_millis() + hours * 3_600_000)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_at_fault_is_listed_with_its_reason() {
    let s = start(STORE).await;
    let good = |seq| at(event("n", seq), &hours_from_now(0));
    let lines = [
        good(1).to_string(),
        at(event("n", 2), &hours_from_now(-72)).to_string(),
        "{\"not\":\"an event\"}".to_owned(),
        good(4).to_string(),
        at(event("n", 5), &hours_from_now(72)).to_string(),
        at(event("n", 6), &hours_from_now(-96)).to_string(),
    ];
    let (status, _, body) = post(&s, lines.join("\n") + "\n", None).await;
    assert_eq!(status, 400, "{body}");
    // The first event at fault (line 2) at top level.
    assert_eq!(
        (&body["error"], &body["line"], &body["field"]),
        (
            &"timestamp_past_retention".into(),
            &2.into(),
            &"timestamp".into()
        ),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("and 3 other event(s)"), "{message}");
    let listed: Vec<(u64, &str)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["error"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            (2, "timestamp_past_retention"),
            (3, "invalid_event"),
            (5, "timestamp_ahead"),
            (6, "timestamp_past_retention"),
        ],
        "{body}"
    );
    for e in body["events"].as_array().unwrap() {
        assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
    }
    assert_eq!(body["events"][2]["field"], "timestamp", "{body}");
    assert!(body["events"][3]["message"]
        .as_str()
        .unwrap()
        .contains("\"short\""));
    assert!(body.get("eventsMore").is_none(), "{body}");
    assert!(stored_ids(&s.dir.path().join("data/short")).is_empty());

    // Many more events at fault than an answer lists.
    let many: Vec<String> = (0..2500).map(|i| format!("{{\"bad\":{i}}}")).collect();
    let (status, _, body) = post(&s, many.join("\n"), None).await;
    assert_eq!((status, &body["error"]), (400, &"invalid_event".into()));
    let listed = body["events"].as_array().unwrap();
    assert_eq!(listed.len(), 1000, "the first 1000 listed");
    assert_eq!(
        (&listed[0]["line"], &listed[999]["line"]),
        (&1.into(), &1000.into())
    );
    assert_eq!(body["eventsMore"], 1500, "the others counted");
    assert!(stored_ids(&s.dir.path().join("data/short")).is_empty());
}
