//! With `server_keys` set, the server's `200` to the node's own request, signed over
//! the `auditrail-answer-v3` text that binds the node's credential, acknowledges the
//! batch: sent straight to the server, and through a relay that passes the node's
//! `Authorization` (and the answer version it asks for) on unchanged, as a reverse
//! proxy does. Each event is stored once, under the node's key id. Real server process,
//! real relay, real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::{ctx, events, pending, pinned_spool_config};

const NODE: &str = "node-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_to_the_nodes_own_key_acknowledges_directly_and_through_a_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let (server, key) = common::server_with_a_node_key(dir.path(), NODE, "");
    let proxy = common::relay(server.url.clone(), |headers, body| {
        (common::passed_on(headers, true), body.to_vec())
    })
    .await;
    let direct = events(3, false);
    let proxied = events(4, false);
    for (url, batch, name) in [
        (&server.url, &direct, "direct"),
        (&proxy, &proxied, "proxied"),
    ] {
        let mut c = pinned_spool_config(url.clone(), key);
        c.auth_key = NODE.to_owned();
        let mut t = EventServerTarget::new(c, &ctx(&dir.path().join(name), "es")).unwrap();
        t.send(batch).await.unwrap();
        t.flush().await.unwrap();
        assert_eq!(pending(&t), 0, "{name}");
        let m = t.metrics();
        assert_eq!(m.sent_events, batch.len() as u64, "{name}: {m:?}");
        t.shutdown().await.unwrap();
    }
    common::assert_stored_once_under(&server.data_dir, direct.iter().chain(&proxied), "node");
}
