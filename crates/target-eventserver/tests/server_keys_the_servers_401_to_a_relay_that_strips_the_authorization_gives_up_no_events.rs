//! With `server_keys` set, the configured server's genuine `401`, signed for the
//! node's request as a relay passed it on without the node's `Authorization` header,
//! gives up no events. A stand-in at the node's url gets the node's nonce and body with
//! each request; it posts them to the real server without the key and hands the
//! server's signed `401` back. The signature binds the credential the server saw (a
//! digest of each `Authorization` line; none here), so it does not verify for the
//! node's request, which sent its key: the events stay spooled (a direct `send` fails
//! retryably, saying the refusal is signed for another credential) and the server
//! itself stores them once the node reaches it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::{ctx, events, pending, pinned_spool_config};

const SECRET: &str = "node-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_to_the_request_without_its_key_keeps_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let (server, key) = common::server_with_a_node_key(dir.path(), SECRET, "");
    let stripping = common::relay(server.url.clone(), |headers, body| {
        (common::passed_on(headers, false), body.to_vec())
    })
    .await;
    let batch = events(4, false);
    common::a_pinned_node_gives_up_nothing(
        &stripping,
        key,
        SECRET,
        dir.path(),
        &batch,
        "signed for another credential",
    )
    .await;

    // The server itself, with the node's key: the events are delivered, each once.
    let mut c = pinned_spool_config(server.url.clone(), key);
    c.auth_key = SECRET.to_owned();
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    let stored = server.stored();
    for e in &batch {
        assert_eq!(stored.iter().filter(|(_, s)| s.id == e.id).count(), 1);
    }
}
