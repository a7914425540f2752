//! The server opens its stores itself and hands them to its dispatcher built, so the
//! dispatcher's `route_durability` had no config to ask and said `Undeclared` (taken as
//! not durable) for every store, whatever its config. The answers' `durable` now reads
//! the dispatcher's word, which for a store is its config's (`StoreConfig::durability`,
//! handed over with the built store): a batch that only a durable store takes is
//! answered `durable: true`, one that only a store with a flush policy takes `durable:
//! false`, naming the flush policy, over real HTTP with two real stores side by side.

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_store_answers_durable_and_a_flushing_one_does_not() {
    let s = start(
        "[[destinations]]\ntype = \"store\"\nname = \"synced\"\npath = \"synced\"\ntopics = [\"generic\"]\n\n\
         [[destinations]]\ntype = \"store\"\nname = \"lazy\"\npath = \"lazy\"\ntopics = [\"authfail\"]\n\
         flush = { every_bytes = 1048576, every_seconds = 1 }\n",
    )
    .await;
    let (status, _, body) = post(&s, ndjson(&[event_with("n1", 1, "generic", None)]), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["durable"], true,
        "only the durable store took it: {body}"
    );
    assert!(body.get("note").is_none(), "{body}");

    let (status, _, body) = post(&s, ndjson(&[event_with("n1", 2, "authfail", None)]), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["durable"], false, "the flushing store took it: {body}");
    assert!(
        body["note"].as_str().unwrap().contains("flush policy"),
        "{body}"
    );
}
