//! A node with `server_keys` asks for the `auditrail-answer-v4` text, which covers the
//! answer's `notDurable` (how many events of the batch are not on the server's stable
//! storage), and counts exactly those. A server that signs only `v3` (older than the
//! count; here a proxy that asks for `3` in the node's place) answers a signature that
//! does not cover that count, which a proxy could lower unseen: the node takes the
//! answer (it binds its credential), not the count, and counts its whole `durable:
//! false` request as not durable, as before the count. A real server with a durable
//! store for `generic` and a flushing one for `authfail`, real HTTP, a real proxy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use crate::common;

use auditrail_core::{topics, Event, EventDraft, NodeId, Target};
use auditrail_target_eventserver::EventServerTarget;

/// 2 `generic` events and 1 `authfail` event.
fn mixed() -> Vec<Arc<Event>> {
    let node = NodeId::new("test-node").unwrap();
    [topics::GENERIC, topics::AUTHFAIL, topics::GENERIC]
        .into_iter()
        .enumerate()
        .map(|(i, topic)| {
            let d = EventDraft::new(topic, "t").field("i", i as u64);
            Arc::new(d.complete(&node, || i as u64 + 1).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v3_answer_counts_the_whole_request_a_v4_one_the_flushing_stores_event() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("server");
    let config = common::server_config(
        &data_dir,
        "[[destinations]]\ntype = \"store\"\nname = \"synced\"\npath = \"synced\"\n\
         topics = [\"generic\"]\n\n\
         [[destinations]]\ntype = \"store\"\nname = \"lazy\"\npath = \"lazy\"\n\
         topics = [\"authfail\"]\nflush = { every_bytes = 1048576, every_seconds = 3600 }\n",
    );
    let server = auditrail_testkit::server::ServerProcess::start(&data_dir, Some(&config));
    let key = common::exported_key(&server.data_dir);
    let as_v3 = common::relay(server.url.clone(), |headers, body| {
        let mut on = common::passed_on(headers, true);
        on.insert(
            auditrail_core::answer::VERSION_HEADER,
            axum::http::HeaderValue::from_static("3"),
        );
        (on, body.to_vec())
    })
    .await;
    let direct = |url: String| {
        let mut c = common::pinned_spool_config(url, key);
        c.spool = false;
        c
    };
    for (url, name, not_durable) in [(server.url.clone(), "v4", 1), (as_v3, "v3", 3)] {
        let mut t = EventServerTarget::new(direct(url), &common::ctx(dir.path(), name)).unwrap();
        t.send(&mixed()).await.unwrap();
        assert_eq!(t.taken_not_durable(), not_durable, "{name}");
        assert_eq!(t.metrics().not_durable, not_durable, "{name}");
        t.shutdown().await.unwrap();
    }
}
