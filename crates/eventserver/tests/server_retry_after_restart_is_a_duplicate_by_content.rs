//! After a restart (de-duplication rebuilt from the store's records), a byte-identical
//! retry of a stored event is still a duplicate, while a different event with the same
//! id is stored: the content the server recognises a retry by is read back from the
//! store exactly as it was taken from the request (the message's text with its
//! whitespace, escapes and big numbers, a timestamp sent with an offset, an escaped
//! routing key).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const ID: &str = "0190b8a2-1c3d-7000-8000-0000000000ee";

fn accepted_and_duplicates(body: &serde_json::Value) -> (Option<u64>, Option<u64>) {
    (body["accepted"].as_u64(), body["duplicates"].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_restart_is_a_duplicate_and_another_event_with_its_id_is_stored() {
    let s = start(STORE).await;
    let original = format!(
        r#"{{"id":"{ID}","timestamp":"2026-11-30T12:00:00.123456+02:00","topic":"generic","routingKey":"svc \"a\" \u00e9","node":"node-a","seq":1,"message":{{ "msgType" : "login", "n" : 123456789012345678901234567890, "s" : "\u00e9\n" }}}}"#
    );
    let (status, _, body) = post(&s, format!("{original}\n"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(accepted_and_duplicates(&body), (Some(1), Some(0)), "{body}");

    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), STORE);
    let s = start_with(dir, config).await;

    let (status, _, body) = post(&s, format!("{original}\n"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        accepted_and_duplicates(&body),
        (Some(0), Some(1)),
        "the stored event, sent again after the restart: {body}"
    );

    let other = format!(
        r#"{{"id":"{ID}","timestamp":"2026-11-30T11:00:00Z","topic":"authfail","node":"node-b","seq":7,"message":{{"msgType":"login-failed","authUser":"root"}}}}"#
    );
    let (status, _, body) = post(&s, format!("{other}\n"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        accepted_and_duplicates(&body),
        (Some(1), Some(0)),
        "another event with the stored event's id: {body}"
    );
    let (status, _, body) = post(&s, format!("{other}\n"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(accepted_and_duplicates(&body), (Some(0), Some(1)), "{body}");

    let stored = stored_records(&s.store());
    assert_eq!(stored.len(), 2, "{stored:?}");
    let nodes: Vec<&str> = stored
        .iter()
        .map(|r| r["clientEvent"]["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["node-a", "node-b"]);
    s.running.shutdown().await;
}
