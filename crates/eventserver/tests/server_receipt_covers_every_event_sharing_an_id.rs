//! Event ids are chosen by clients: a batch may hold two different events with one id
//! (both are stored). The batch's receipt must cover the records of both: a receipt
//! that found events by id alone gave both the later one's record, and its range left
//! out the earlier one, stored and acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receipt_range_covers_both_events_of_a_shared_id() {
    let s = start(STORE).await;
    let x1 = event("n1", 1);
    let y = event("n1", 2);
    let mut x2 = event("n1", 3);
    x2["id"] = x1["id"].clone();
    x2["message"]["authUser"] = "bob".into();

    let (status, _, body) = post(&s, ndjson(&[x1.clone(), y, x2]), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 3, "{body}");
    let (first, last) = (
        body["receipt"]["firstSeq"].as_u64().unwrap(),
        body["receipt"]["lastSeq"].as_u64().unwrap(),
    );

    let records = stored_records(&s.store());
    assert_eq!(records.len(), 3, "{records:?}");
    let sharing: Vec<u64> = records
        .iter()
        .filter(|r| r["clientEvent"]["id"] == x1["id"])
        .map(|r| r["chainSeq"].as_u64().unwrap())
        .collect();
    assert_eq!(sharing.len(), 2, "{records:?}");
    for seq in sharing {
        assert!(
            (first..=last).contains(&seq),
            "the receipt {first}..={last} leaves out the record {seq} of an event it acknowledges: {body}"
        );
    }
    s.running.shutdown().await;
}
