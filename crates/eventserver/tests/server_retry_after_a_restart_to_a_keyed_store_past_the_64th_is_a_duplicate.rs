//! A server with a store per service (`routing_keys`, `required_key`), more than 64 of
//! them: stores past the 64th fell off the rebuild's bitmasks, so after a restart an
//! event such a store held was not taken as stored and the store got no mark of it. The
//! node's retry of a batch acknowledged just before the restart was stored a second
//! time, in that store and in the store of every event. Now the retry is a duplicate
//! there as in the first 64 stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::keyed::{counts, restart, KEY_A};
use server_support::*;

/// Stores of services: `svc-0` is the 2nd store, `svc-64` the 66th.
const SERVICES: usize = 65;

/// Keys `a` and `b`, a store `all` of every event, and a store per service that
/// takes key `a`'s events of its routing key. They keep no chain links: they cannot
/// show their records, only de-duplication's marks say they hold them.
fn config() -> String {
    let mut c = String::from(
        "[[keys]]\nid = \"a\"\nsecret = \"aaaaaaaaaaaa\"\n\
         [[destinations]]\nname = \"all\"\ntype = \"store\"\npath = \"store\"\n",
    );
    for n in 0..SERVICES {
        c.push_str(&format!(
            "[[destinations]]\nname = \"svc-{n}\"\ntype = \"store\"\npath = \"svc-{n}\"\n\
             chain = false\nrequired_key = \"a\"\nrouting_keys = [\"svc-{n}\"]\n"
        ));
    }
    c
}

/// Records of `e` in `all` and in the store of service `n`.
fn held(s: &TestServer, e: &serde_json::Value, n: usize) -> (usize, usize) {
    let id = e["id"].as_str().unwrap();
    let count = |store: std::path::PathBuf| stored_ids(&store).get(id).copied().unwrap_or(0);
    let svc = s.dir.path().join(format!("data/svc-{n}"));
    (count(s.store()), count(svc))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_restart_to_the_66th_store_is_a_duplicate() {
    let s = start(&config()).await;
    // The 64th store (`svc-62`, numbered 63) and the 66th (`svc-64`, numbered 65).
    let events = [
        event_with("api-7", 1, "generic", Some("svc-62")),
        event_with("api-7", 2, "generic", Some("svc-64")),
    ];
    let body = ndjson(&events);
    let (status, _, first) = post(&s, body.clone(), Some(KEY_A)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(counts(&first), (Some(2), Some(0)), "{first}");

    let s = restart(s, &config()).await;
    let (status, _, retry) = post(&s, body, Some(KEY_A)).await;
    assert_eq!(status, 200, "{retry}");
    assert_eq!(
        counts(&retry),
        (Some(0), Some(2)),
        "both stores hold their event: {retry}"
    );
    assert_eq!(held(&s, &events[0], 62), (1, 1));
    assert_eq!(held(&s, &events[1], 64), (1, 1), "one record in each store");
    s.running.shutdown().await;
}
