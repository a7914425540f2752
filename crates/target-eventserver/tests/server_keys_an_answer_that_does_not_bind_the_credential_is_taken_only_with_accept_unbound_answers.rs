//! With `server_keys` set, a `200` signed over the older `auditrail-answer-v2` text,
//! which does not bind the node's credential, is taken as the acknowledgement only
//! when the target sets `accept_unbound_answers`. A server before `v3` answers so, and
//! so does a new one when something in between drops the `Auditrail-Answer-Version`
//! header the node sends (here a proxy that passes the node's key and nonce on, not
//! that header). Without the option the events stay spooled and a direct `send` fails
//! retryably, saying what happened and both ways out (upgrade the server, or set the
//! option); with it, the same answers deliver. Real server process, real proxy, real
//! sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::{ctx, events, pending, pinned_spool_config};

const NODE: &str = "node-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbound_answer_delivers_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, key) = common::server_with_a_node_key(dir.path(), NODE, "");
    let dropping = common::relay(server.url.clone(), |headers, body| {
        let mut on = common::passed_on(headers, true);
        // The strict node asks for `v3`; the allowed one does not ask (it takes `v2`).
        on.remove(auditrail_core::answer::VERSION_HEADER);
        (on, body.to_vec())
    })
    .await;
    let node = |accept_unbound_answers| {
        let mut c = pinned_spool_config(dropping.clone(), key);
        c.auth_key = NODE.to_owned();
        c.accept_unbound_answers = accept_unbound_answers;
        c
    };
    let batch = events(4, false);
    common::a_node_configured_so_takes_no_acknowledgement(
        node(false),
        &dir.path().join("strict"),
        &batch,
        &[
            "over the older `auditrail-answer-v2` text, which does not bind the credential",
            "upgrade the event server",
            "set `accept_unbound_answers = true` on this target",
        ],
    )
    .await;

    let mut t = EventServerTarget::new(node(true), &ctx(dir.path(), "allowed")).unwrap();
    t.send(&batch).await.unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    assert_eq!(t.metrics().sent_events, batch.len() as u64);
    t.shutdown().await.unwrap();
    let stored = server.stored();
    for e in &batch {
        assert_eq!(stored.iter().filter(|(_, s)| s.id == e.id).count(), 1);
    }
}
