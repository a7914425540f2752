//! A server whose destination is a `file` target (JSON lines under `<data_dir>/audit`)
//! cannot read back what that destination holds: an operator's cleanup job may remove
//! its folder (docs/targets/file.md). A node's retry of a batch whose answer it lost
//! is therefore written to it again (`accepted`), never answered `200` as duplicates
//! on the word of the server's memory alone, which the node would take as "stored"
//! and drop its only copy (tryout63/09). With a store next to the file destination,
//! the store keeps its one record (a duplicate there, its receipt over that record)
//! while the file destination gets the event again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

use crate::server_support;

use server_support::*;

const FILE: &str = "[[destinations]]\ntype = \"file\"\n";

async fn sent(s: &TestServer, e: &Value) -> Value {
    let (status, _, body) = post(s, ndjson(std::slice::from_ref(e)), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn counts(answer: &Value) -> (Option<u64>, Option<u64>, Option<bool>) {
    (
        answer["accepted"].as_u64(),
        answer["duplicates"].as_u64(),
        answer["durable"].as_bool(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_file_destinations_folder_was_removed_is_written_again() {
    let s = start_with_file(FILE).await;
    let audit = s.audit();
    let e = event("fdg", 1);
    let id = e["id"].as_str().unwrap();
    assert_eq!(counts(&sent(&s, &e).await), (Some(1), Some(0), Some(true)));
    assert_eq!(lines_holding(&audit, id), 1);

    // The cleanup job; then the node's retry of the batch whose answer it lost.
    std::fs::remove_dir_all(&audit).unwrap();
    let answer = sent(&s, &e).await;
    assert_eq!(
        counts(&answer),
        (Some(1), Some(0), Some(true)),
        "the file destination cannot show it holds the event: it is written again, not \
         answered as a duplicate: {answer}"
    );
    assert_eq!(
        lines_holding(&audit, id),
        1,
        "written into the re-created folder"
    );

    // Sent again with the file in place: written again too (at-least-once in a
    // destination that cannot be read back; the id tells the copies apart).
    assert_eq!(counts(&sent(&s, &e).await), (Some(1), Some(0), Some(true)));
    assert_eq!(lines_holding(&audit, id), 2);
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_store_too_the_store_keeps_one_record_and_the_file_gets_the_event_again() {
    let s = start_with_file(&format!("{STORE}{FILE}")).await;
    let audit = s.audit();
    let e = event("fdg", 1);
    let id = e["id"].as_str().unwrap();
    let first = sent(&s, &e).await;
    assert_eq!(counts(&first), (Some(1), Some(0), Some(true)));
    let range = |a: &Value| {
        (
            a["receipt"]["firstSeq"].clone(),
            a["receipt"]["lastSeq"].clone(),
        )
    };
    assert!(first["receipt"].is_object(), "{first}");

    std::fs::remove_dir_all(&audit).unwrap();
    let answer = sent(&s, &e).await;
    assert_eq!(
        counts(&answer),
        (Some(1), Some(0), Some(true)),
        "the file part is written again: {answer}"
    );
    assert_eq!(
        lines_holding(&audit, id),
        1,
        "written into the re-created folder"
    );
    assert_eq!(
        stored_ids(&s.store()).get(id).copied(),
        Some(1),
        "the store holds its one record, not a second"
    );
    assert_eq!(
        range(&answer),
        range(&first),
        "the receipt covers the store's record of the event: {answer}"
    );
    s.running.shutdown().await;
}
