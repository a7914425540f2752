//! A store with a `required_key` that cannot show its record of an event (`chain =
//! false`: it keeps no chain links; a chained store shows only its last 262 144) still
//! holds it when de-duplication saw it take the event: the owner's retry is a
//! duplicate there, not a second copy. Before, every retry with the required key found
//! the keyed store "lacking" and wrote another record into it (a node retrying a batch
//! three times left four copies), while the answer said `accepted`. The same after a
//! restart: the rebuild notes which keyed stores hold each event it remembers.
//! And the event first stored without the keyed store (another key) is still written
//! there once by the owner's retry, then a duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::keyed::{held, keyed, restart, KEY_A, KEY_B};
use server_support::*;

/// `svc` keeps no chain links: it cannot show its records.
fn unchained() -> String {
    keyed("chain = false\n")
}

async fn send(s: &TestServer, e: &Value, key: &str) -> (u64, u64) {
    let (status, _, answer) = post(s, ndjson(std::slice::from_ref(e)), Some(key)).await;
    assert_eq!(status, 200, "{answer}");
    (
        answer["accepted"].as_u64().unwrap(),
        answer["duplicates"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_retries_leave_one_record_in_an_unchained_keyed_store() {
    let s = start(&unchained()).await;
    // Sent by its owner: both stores take it.
    let owned = event_with("api-7", 1, "generic", Some("svc-a"));
    // Sent first with the general key: the keyed store never took it.
    let general = event_with("api-7", 2, "generic", Some("svc-a"));
    assert_eq!(send(&s, &owned, KEY_A).await, (1, 0));
    assert_eq!(send(&s, &general, KEY_B).await, (1, 0));
    assert_eq!(held(&s, &owned), (1, 1));
    assert_eq!(held(&s, &general), (1, 0));

    for retry in 1..=3 {
        assert_eq!(
            send(&s, &owned, KEY_A).await,
            (0, 1),
            "retry {retry}: svc took it when it was stored"
        );
        assert_eq!(held(&s, &owned), (1, 1), "retry {retry}");
    }
    assert_eq!(send(&s, &general, KEY_A).await, (1, 0), "written to svc");
    assert_eq!(held(&s, &general), (1, 1));
    assert_eq!(send(&s, &general, KEY_A).await, (0, 1), "then a duplicate");
    assert_eq!(held(&s, &general), (1, 1));

    let s = restart(s, &unchained()).await;
    for e in [&owned, &general] {
        assert_eq!(send(&s, e, KEY_A).await, (0, 1), "after the restart: {e}");
        assert_eq!(held(&s, e), (1, 1), "after the restart: {e}");
    }
    s.running.shutdown().await;
}
