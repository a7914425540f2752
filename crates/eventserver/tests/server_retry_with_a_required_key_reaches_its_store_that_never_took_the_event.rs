//! An event first sent with a general key is stored in the destinations that key
//! reaches; a store with `required_key = "a"` never took it. Sent again with key `a`
//! (a node first set up with the wrong key whose answer was lost, or a relay that
//! posted it first), it is a duplicate to de-duplication, which remembers the event and
//! not the key: it must still reach the keyed store (answered `accepted`, with the
//! receipts of both stores), while the store that holds it keeps its one record. Before
//! and after a restart (the rebuilt de-duplication takes the event as stored again).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::keyed::{counts, held, keyed, restart, KEY_A, KEY_B};
use server_support::*;

/// The owner's retry is written to its store alone, its answer's receipts cover both
/// stores, and a further retry is a duplicate held by both.
async fn owner_retries(s: &TestServer, e: &Value) {
    let body = ndjson(std::slice::from_ref(e));
    let (status, _, answer) = post(s, body.clone(), Some(KEY_A)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        counts(&answer),
        (Some(1), Some(0)),
        "sent again to the keyed store: {answer}"
    );
    assert_eq!(held(s, e), (1, 1), "svc took it, all was not written again");
    let receipts = answer["receipt"].as_array().expect("a receipt per store");
    assert_eq!(receipts.len(), 2, "receipts of both stores: {answer}");

    let (status, _, again) = post(s, body, Some(KEY_A)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(counts(&again), (Some(0), Some(1)), "{again}");
    assert_eq!(held(s, e), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_retry_reaches_the_keyed_store() {
    let s = start(&keyed("")).await;
    let e = event_with("api-7", 1, "generic", Some("svc-a"));
    let (status, _, first) = post(&s, ndjson(std::slice::from_ref(&e)), Some(KEY_B)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(counts(&first), (Some(1), Some(0)), "{first}");
    assert_eq!(held(&s, &e), (1, 0), "key b does not reach svc");

    owner_retries(&s, &e).await;
    let s = restart(s, &keyed("")).await;
    let (status, _, after) = post(&s, ndjson(std::slice::from_ref(&e)), Some(KEY_A)).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        counts(&after),
        (Some(0), Some(1)),
        "both stores hold it after the restart: {after}"
    );
    assert_eq!(held(&s, &e), (1, 1));
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_retry_after_a_restart_reaches_the_keyed_store() {
    let s = start(&keyed("")).await;
    let e = event_with("api-7", 1, "generic", Some("svc-a"));
    let (status, _, first) = post(&s, ndjson(std::slice::from_ref(&e)), Some(KEY_B)).await;
    assert_eq!(status, 200, "{first}");
    let s = restart(s, &keyed("")).await;
    owner_retries(&s, &e).await;
    s.running.shutdown().await;
}
