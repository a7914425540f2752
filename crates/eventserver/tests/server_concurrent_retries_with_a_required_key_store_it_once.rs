//! An event first sent with a general key is stored without the `required_key = "a"`
//! store. Several retries of it with key `a`, sent at once (a node whose answers were
//! lost retrying over several connections, or two relays), must write it into the
//! keyed store once: exactly one record per store, whatever the interleaving. Before,
//! each retry found the event stored and the keyed store lacking it, and each wrote it
//! there (two or more copies). Each answer must be true: one says the event was taken
//! (`accepted: 1`), the others that it is a duplicate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::keyed::{held, keyed, KEY_A, KEY_B};
use server_support::*;

/// Rounds of retries sent at once, and how many at once.
const ROUNDS: u64 = 30;
const AT_ONCE: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_with_the_required_key_write_the_keyed_store_once() {
    let s = std::sync::Arc::new(start(&keyed("")).await);
    for round in 1..=ROUNDS {
        let e = event_with("api-7", round, "generic", Some("svc-a"));
        let body = ndjson(std::slice::from_ref(&e));
        let (status, _, first) = post(&s, body.clone(), Some(KEY_B)).await;
        assert_eq!(status, 200, "{first}");

        let retries: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                let s = s.clone();
                let body = body.clone();
                tokio::spawn(async move { post(&s, body, Some(KEY_A)).await })
            })
            .collect();
        let mut accepted = 0;
        for r in retries {
            let (status, _, answer) = r.await.unwrap();
            assert_eq!(status, 200, "{answer}");
            let a = answer["accepted"].as_u64().unwrap();
            let d = answer["duplicates"].as_u64().unwrap();
            assert_eq!(a + d, 1, "{answer}");
            accepted += a;
        }
        assert_eq!(
            held(&s, &e),
            (1, 1),
            "round {round}: one record in each store, after {AT_ONCE} retries at once"
        );
        assert_eq!(
            accepted, 1,
            "round {round}: one retry wrote it, the others are its duplicates"
        );
    }
    let s = std::sync::Arc::into_inner(s).expect("no request left");
    s.running.shutdown().await;
}
