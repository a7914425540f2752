//! A store keeps `store-id`, `checkpoints.jsonl` and `checkpoints.jsonl.cut` (the cut
//! bytes of a torn checkpoint line) in its root, next to its first folder level. An event whose topic (or, with `folder_by_topic = false`, routing key)
//! would take one of those names is refused with 400 naming the reserved name, and
//! nothing of its batch is stored; the same name one level down is fine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_named_like_a_store_file_is_refused_with_400() {
    let s = start(STORE).await;
    for reserved in ["store-id", "checkpoints.jsonl", "checkpoints.jsonl.cut"] {
        let ok = event("n1", 1);
        let bad = event_with("n1", 2, reserved, None);
        let (status, _, body) = post(&s, ndjson(&[ok, bad]), None).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "reserved_name", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(reserved) && message.contains("topic"),
            "{body}"
        );
        // The second event of the batch is the culprit.
        assert_eq!(body["line"], 2, "{body}");
    }
    // All or nothing: the valid first events were not stored either.
    assert!(stored_ids(&s.store()).is_empty());
    // The store's own files are intact and still files.
    assert!(s.store().join("store-id").is_file());
    assert!(s.store().join("checkpoints.jsonl").is_file());
    // A reserved name as a routing key, under a topic folder, collides with nothing.
    let fine = event_with("n1", 3, "generic", Some("store-id"));
    let (status, _, body) = post(&s, ndjson(&[fine]), None).await;
    assert_eq!(status, 200, "{body}");
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_topic_folders_a_routing_key_named_like_a_store_file_is_refused() {
    let s = start(&format!("{STORE}folder_by_topic = false\n")).await;
    let bad = event_with("n1", 1, "generic", Some("checkpoints.jsonl"));
    let (status, _, body) = post(&s, ndjson(&[bad]), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "reserved_name", "{body}");
    assert_eq!(body["field"], "routingKey", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("checkpoints.jsonl"),
        "{body}"
    );
    // Topics are no folder level here: a topic with that name is stored.
    let fine = event_with("n1", 2, "store-id", Some("svc-a"));
    let (status, _, body) = post(&s, ndjson(&[fine]), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored_ids(&s.store()).len(), 1);
    s.running.shutdown().await;
}
