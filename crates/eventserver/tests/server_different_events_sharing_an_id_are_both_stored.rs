//! De-duplication recognises the same event sent again, not any event with a known id:
//! when key `svc-b` sends a different event with the id of an event key `svc-a`
//! stored, it is stored too (answered `accepted: 1`, never `200` as a duplicate while
//! nothing is stored), both events stay in the store, and a byte-identical retry of
//! either is still answered as a duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const CONFIG: &str = r#"
[[keys]]
id = "svc-a"
secret = "secret-of-a"
routing_keys = ["svc-a"]

[[keys]]
id = "svc-b"
secret = "secret-of-b"
routing_keys = ["svc-b"]

[[destinations]]
type = "store"
path = "store"
"#;

const ID: &str = "0190b8a2-1c3d-7000-8000-00000000abcd";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_keys_event_with_a_stored_id_is_stored_and_retries_stay_duplicates() {
    let s = start(CONFIG).await;
    let a = format!(
        r#"{{"id":"{ID}","timestamp":"2026-11-30T10:00:00Z","topic":"generic","routingKey":"svc-a","node":"node-a","seq":1,"message":{{"msgType":"noise"}}}}"#
    );
    let b = format!(
        r#"{{"id":"{ID}","timestamp":"2026-11-30T11:00:00Z","topic":"authfail","routingKey":"svc-b","node":"node-b","seq":7,"message":{{"msgType":"login-failed","authUser":"root"}}}}"#
    );
    let (status, _, body) = post(&s, format!("{a}\n"), Some("secret-of-a")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(0)),
        "{body}"
    );

    let (status, _, body) = post(&s, format!("{b}\n"), Some("secret-of-b")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(0)),
        "svc-b's event is another event, not a duplicate of svc-a's: {body}"
    );

    // Both are stored, each as its key sent it.
    let stored = stored_records(&s.store());
    assert_eq!(stored.len(), 2, "{stored:?}");
    for (key, node, topic) in [
        ("svc-a", "node-a", "generic"),
        ("svc-b", "node-b", "authfail"),
    ] {
        let r = stored
            .iter()
            .find(|r| r["keyId"] == key)
            .unwrap_or_else(|| panic!("no record of key {key}: {stored:?}"));
        assert_eq!(r["clientEvent"]["id"], ID);
        assert_eq!(r["clientEvent"]["node"], node);
        assert_eq!(r["clientEvent"]["topic"], topic);
    }

    // A retry of either, byte for byte, is the same event: a duplicate, stored once.
    for (text, secret) in [(&a, "secret-of-a"), (&b, "secret-of-b")] {
        let (status, _, body) = post(&s, format!("{text}\n"), Some(secret)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["accepted"].as_u64(), body["duplicates"].as_u64()),
            (Some(0), Some(1)),
            "{body}"
        );
    }
    assert_eq!(stored_ids(&s.store())[ID], 2);
    s.running.shutdown().await;
}
