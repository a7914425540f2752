//! A retry of a batch whose events a store with a flush policy wrote but has not
//! fsynced yet is answered `durable: false` (with the note), as the first answer was:
//! the duplicate's answer vouches for the stored original, which a power loss may still
//! take. It was answered `durable: true` (tryout63/07): only the batch's new events
//! were asked, and an all-duplicates batch has none. Once the store fsynced the record
//! (a later batch crossed `every_bytes`), the same retry is answered `durable: true`.

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_before_the_fsync_is_not_durable_and_after_it_is() {
    // Nothing fsyncs by time within the test; 64 KiB written fsyncs.
    let s = start(
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nflush = { every_bytes = 65536, every_seconds = 3600 }\n",
    )
    .await;
    let first = ndjson(&[event("n1", 1)]);
    let (status, _, body) = post(&s, first.clone(), None).await;
    assert_eq!(
        (status, &body["accepted"], &body["durable"]),
        (200, &1.into(), &false.into()),
        "{body}"
    );

    let (status, _, retry) = post(&s, first.clone(), None).await;
    assert_eq!(status, 200, "{retry}");
    assert_eq!(retry["duplicates"], 1, "{retry}");
    assert_eq!(
        retry["durable"], false,
        "the original is not fsynced yet: {retry}"
    );
    assert!(
        retry["note"].as_str().unwrap().contains("flush policy"),
        "{retry}"
    );

    // A batch of more than 64 KiB: the store fsyncs everything written, the first
    // event's record too.
    let many: Vec<_> = (2..=400).map(|seq| event("n1", seq)).collect();
    let (status, _, body) = post(&s, ndjson(&many), None).await;
    assert_eq!((status, &body["accepted"]), (200, &399.into()), "{body}");

    let (status, _, after) = post(&s, first, None).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["duplicates"], 1, "{after}");
    assert_eq!(
        after["durable"], true,
        "the original is fsynced now: {after}"
    );
    assert!(after.get("note").is_none(), "{after}");
}
