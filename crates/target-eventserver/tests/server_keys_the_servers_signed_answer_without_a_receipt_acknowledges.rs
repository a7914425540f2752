//! With `server_keys` set, the configured server's `200` that carries no receipt is an
//! acknowledgement when its `answerSig` (the server's signature over this request's
//! nonce and the answer) verifies under a listed key. The server answers without a
//! receipt when none of its stores is chained (`chain = false`), and when none of its
//! chained stores takes the batch's events (their filters): `"receipt": null` with one
//! chained store, `[]` with several. Before, such a `200` was refused ("it carries no
//! receipt") and the batch retried for ever: the spool never moved past it and filled
//! up, a valid batch stopping the node's collection.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::server::{stored_in, ServerProcess};
use common::{ctx, events, exported_key, pending, pinned_spool_config, server_config, sorted_ids};

/// Starts a server with `config` under `dir`, pins its key, sends a batch through a
/// spooled target and checks that the batch leaves the spool, stored in the store
/// folder `kept_in` of the server's data dir, and nothing in the folders `not_in`.
async fn delivered_by_a_server_with(
    dir: &std::path::Path,
    config: &str,
    kept_in: &str,
    not_in: &[&str],
) {
    let data_dir = dir.join("server");
    let config = server_config(&data_dir, config);
    let server = ServerProcess::start(&data_dir, Some(&config));
    let key = exported_key(&server.data_dir);
    let batch = events(5, false);
    let mut t = EventServerTarget::new(
        pinned_spool_config(server.url.clone(), key),
        &ctx(dir, "es"),
    )
    .unwrap();
    t.send(&batch).await.unwrap();
    let flushed = t.flush().await;
    let m = t.metrics();
    assert_eq!(
        pending(&t),
        0,
        "the pinned server's answer without a receipt was not taken as the \
         acknowledgement ({flushed:?}, {m:?}); its log:\n{}",
        server.log()
    );
    assert_eq!((m.requests, m.sent_events), (1, 5), "{m:?}");
    t.shutdown().await.unwrap();
    assert_eq!(
        sorted_ids(stored_in(&data_dir.join(kept_in)).iter().map(|(_, e)| e)),
        sorted_ids(batch.iter().map(|e| &**e)),
        "every event stored, once"
    );
    for folder in not_in {
        assert!(
            stored_in(&data_dir.join(folder)).is_empty(),
            "the chained store {folder} took events: its answer had a receipt"
        );
    }
    assert!(!dir.join("run/deadletter/es.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_chained_store() {
    let dir = tempfile::tempdir().unwrap();
    delivered_by_a_server_with(
        dir.path(),
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nchain = false\n",
        "store",
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_chained_store_takes_none_of_the_batch() {
    // `"receipt": null`: the one chained store's filter takes none of the events; an
    // unchained store takes them (an event no destination takes is refused, 422).
    let dir = tempfile::tempdir().unwrap();
    delivered_by_a_server_with(
        dir.path(),
        "[[destinations]]\ntype = \"store\"\npath = \"chained\"\ntopics = [\"elsewhere\"]\n\
         [[destinations]]\ntype = \"store\"\npath = \"plain\"\nchain = false\n",
        "plain",
        &["chained"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_chained_stores_take_none_of_the_batch() {
    // `"receipt": []`: several chained stores, none takes the events.
    let dir = tempfile::tempdir().unwrap();
    delivered_by_a_server_with(
        dir.path(),
        "[[destinations]]\ntype = \"store\"\npath = \"a\"\ntopics = [\"elsewhere\"]\n\
         [[destinations]]\ntype = \"store\"\npath = \"b\"\ntopics = [\"elsewhere\"]\n\
         [[destinations]]\ntype = \"store\"\npath = \"plain\"\nchain = false\n",
        "plain",
        &["a", "b"],
    )
    .await;
}
