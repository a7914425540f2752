//! Under the free-space floor the server answers 503 with Retry-After and stores
//! nothing (the floor is set above the disk's real free space).

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_floor_nothing_is_stored_and_the_answer_is_503() {
    let s = start(&format!("min_free_bytes = {}\n{STORE}", u64::MAX / 2)).await;
    let (status, headers, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "disk_full");
    assert!(headers.contains_key("retry-after"));
    assert!(stored_ids(&s.store()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_the_floor_events_are_stored() {
    let s = start(&format!("min_free_bytes = 1\n{STORE}")).await;
    let (status, _, _) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200);
    assert_eq!(stored_ids(&s.store()).len(), 1);
}
