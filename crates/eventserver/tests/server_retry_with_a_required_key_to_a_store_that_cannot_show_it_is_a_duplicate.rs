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
use server_support::*;

const KEYED: &str = r#"
[[keys]]
id = "a"
secret = "aaaaaaaaaaaa"
[[keys]]
id = "b"
secret = "bbbbbbbbbbbb"
[[destinations]]
name = "all"
type = "store"
path = "store"
[[destinations]]
name = "svc"
type = "store"
path = "svc"
chain = false
required_key = "a"
"#;

/// How many records of `e` each store holds: (`all`, `svc`).
fn held(s: &TestServer, e: &Value) -> (usize, usize) {
    let id = e["id"].as_str().unwrap();
    let count = |store: std::path::PathBuf| stored_ids(&store).get(id).copied().unwrap_or(0);
    (count(s.store()), count(s.dir.path().join("data/svc")))
}

async fn send(s: &TestServer, e: &Value, key: &str) -> (u64, u64) {
    let (status, _, answer) = post(s, ndjson(std::slice::from_ref(e)), Some(key)).await;
    assert_eq!(status, 200, "{answer}");
    (
        answer["accepted"].as_u64().unwrap(),
        answer["duplicates"].as_u64().unwrap(),
    )
}

async fn restart(s: TestServer) -> TestServer {
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), KEYED);
    start_with(dir, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_retries_leave_one_record_in_an_unchained_keyed_store() {
    let s = start(KEYED).await;
    // Sent by its owner: both stores take it.
    let owned = event_with("api-7", 1, "generic", Some("svc-a"));
    // Sent first with the general key: the keyed store never took it.
    let general = event_with("api-7", 2, "generic", Some("svc-a"));
    assert_eq!(send(&s, &owned, "aaaaaaaaaaaa").await, (1, 0));
    assert_eq!(send(&s, &general, "bbbbbbbbbbbb").await, (1, 0));
    assert_eq!(held(&s, &owned), (1, 1));
    assert_eq!(held(&s, &general), (1, 0));

    for retry in 1..=3 {
        assert_eq!(
            send(&s, &owned, "aaaaaaaaaaaa").await,
            (0, 1),
            "retry {retry}: svc took it when it was stored"
        );
        assert_eq!(held(&s, &owned), (1, 1), "retry {retry}");
    }
    assert_eq!(
        send(&s, &general, "aaaaaaaaaaaa").await,
        (1, 0),
        "written to svc"
    );
    assert_eq!(held(&s, &general), (1, 1));
    assert_eq!(
        send(&s, &general, "aaaaaaaaaaaa").await,
        (0, 1),
        "then a duplicate"
    );
    assert_eq!(held(&s, &general), (1, 1));

    let s = restart(s).await;
    for e in [&owned, &general] {
        assert_eq!(
            send(&s, e, "aaaaaaaaaaaa").await,
            (0, 1),
            "after the restart: {e}"
        );
        assert_eq!(held(&s, e), (1, 1), "after the restart: {e}");
    }
    s.running.shutdown().await;
}
