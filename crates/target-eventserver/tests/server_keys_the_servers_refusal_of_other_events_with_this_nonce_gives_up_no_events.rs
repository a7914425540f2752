//! With `server_keys` set, the configured server's genuine refusal of OTHER events,
//! posted with the node's nonce and key, gives up none of the node's events. A
//! stand-in at the node's url gets the nonce and key with each request; it posts a
//! body the server refuses (an invalid event on line 1) with them and hands the
//! server's signed `400` back, naming line 1. Before, the node dead-lettered its first
//! event, sent the rest again, and the relay did the same to each in turn. The server
//! now signs what it saw of the body (`events lines sha256:<digest>`), which is not
//! the node's body: the events stay spooled (a direct `send` fails retryably, saying
//! the refusal is signed for another request), and the server itself stores them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::server::ServerProcess;
use common::{events, exported_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_of_another_body_keeps_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let key = exported_key(&server.data_dir);
    let swapping = common::relay(server.url.clone(), |headers, _| {
        (
            common::passed_on(headers, true),
            b"{\"not\":\"an event\"}\n".to_vec(),
        )
    })
    .await;
    let batch = events(4, false);
    common::a_pinned_node_gives_up_nothing(
        &swapping,
        key,
        "",
        dir.path(),
        &batch,
        "signed for another request: the server refused a body it saw as `events lines sha256:",
    )
    .await;
    common::the_server_itself_stores_each_once(&server, key, dir.path(), &batch).await;
}
