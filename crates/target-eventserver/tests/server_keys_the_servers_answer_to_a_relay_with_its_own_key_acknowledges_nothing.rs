//! With `server_keys` set, the configured server's genuine `200`, to a relay at the
//! node's url that posts the node's nonce and body on with a bearer key of its own that
//! may write those events, acknowledges nothing. The server stores the events, under
//! the relay's key id: were the answer taken, the node would count them delivered as
//! its own and the recorded submitter would be the relay's key. The answer's
//! `answerSig` (`auditrail-answer-v3`, which the node asks for) binds the digest of the
//! `Authorization` the server received, the relay's, so it does not verify for the
//! node's request: the events stay spooled (a direct `send` fails retryably, naming the
//! relay's url). Real server process, real relay, real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use axum::http::{header, HeaderValue};
use common::{ctx, events, pending, pinned_spool_config};

const NODE: &str = "node-secret-0123";
const RELAY: &str = "relay-secret-4567";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_to_the_relays_key_keeps_the_events() {
    let dir = tempfile::tempdir().unwrap();
    // Both keys may write every routing key.
    let (server, key) = common::server_with_a_node_key(
        dir.path(),
        NODE,
        &format!("\n[[keys]]\nid = \"relay\"\nsecret = \"{RELAY}\"\n"),
    );
    let relay = common::relay(server.url.clone(), |headers, body| {
        let mut on = common::passed_on(headers, false);
        on.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {RELAY}")).unwrap(),
        );
        (on, body.to_vec())
    })
    .await;
    let node = |url: &str| {
        let mut c = pinned_spool_config(url.to_owned(), key);
        c.auth_key = NODE.to_owned();
        c
    };
    let batch = events(5, false);
    common::a_node_configured_so_takes_no_acknowledgement(
        node(&relay),
        dir.path(),
        &batch,
        &["does not verify under the key it names for this request"],
    )
    .await;
    // What the relay got: the node's events stored under its own key.
    common::assert_stored_once_under(&server.data_dir, &batch, "relay");

    // The server itself, with the node's key: its answers (the batch as duplicates)
    // are the node's acknowledgement.
    let mut t = EventServerTarget::new(node(&server.url), &ctx(dir.path(), "es")).unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    let m = t.metrics();
    assert_eq!(m.sent_events, batch.len() as u64, "{m:?}");
    t.shutdown().await.unwrap();
}
