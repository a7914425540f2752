//! An all-duplicates retry is answered with a receipt for the stored original. When
//! another event with the same id (other content) was stored after it, the receipt must
//! still name the retried event's record, not the other one's: a receipt found by id
//! alone vouched for the wrong event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_receipt_is_the_retried_events_own() {
    let s = start(STORE).await;
    let x1 = event("n1", 1);
    let mut x2 = event("n1", 2);
    x2["id"] = x1["id"].clone();
    x2["message"]["authUser"] = "bob".into();

    let (status, _, first) = post(&s, ndjson(std::slice::from_ref(&x1)), None).await;
    assert_eq!(status, 200, "{first}");
    let (status, _, second) = post(&s, ndjson(&[x2]), None).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(
        second["accepted"], 1,
        "another event, not a duplicate: {second}"
    );

    let (status, _, retry) = post(&s, ndjson(std::slice::from_ref(&x1)), None).await;
    assert_eq!(status, 200, "{retry}");
    assert_eq!(retry["duplicates"], 1, "{retry}");

    // X1's own record, read from the store.
    let x1_seq = stored_records(&s.store())
        .iter()
        .find(|r| r["clientEvent"]["id"] == x1["id"] && r["clientEvent"]["seq"] == 1)
        .map(|r| r["chainSeq"].as_u64().unwrap())
        .unwrap();
    let r = &retry["receipt"];
    assert_eq!(
        (r["firstSeq"].as_u64(), r["lastSeq"].as_u64()),
        (Some(x1_seq), Some(x1_seq)),
        "the retry's receipt must name X1's record {x1_seq}: {retry}"
    );
    assert_eq!(retry["receipt"], first["receipt"], "{retry} vs {first}");
    s.running.shutdown().await;
}
