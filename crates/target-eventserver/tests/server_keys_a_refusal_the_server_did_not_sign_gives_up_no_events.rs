//! With `server_keys` set, a final refusal that the pinned server did not sign for
//! this request gives up no events. A stand-in at the node's url (what `server_keys`
//! defends against) answers `403` to every batch; before, the node took it at face
//! value, split the batch down to single events and moved every one into the
//! dead-letter file, out of delivery until an operator sent them again by hand. Now
//! the refusal does not count: the events stay spooled (a direct `send` fails
//! retryably, saying the refusal is not signed by a pinned server key), and once the
//! configured server answers, it stores them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use common::server::ServerProcess;
use common::{events, exported_key};

/// A stand-in that answers every batch `403 forbidden`, as the server words it.
async fn refusing_stand_in() -> String {
    let app = Router::new().route(
        "/v1/events",
        post(|| async {
            (
                StatusCode::FORBIDDEN,
                [("content-type", "application/json")],
                r#"{"error":"forbidden","message":"key \"x\" may not write routingKey \"allowed\"","line":1,"field":"routingKey"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stand_ins_403_keeps_the_events_until_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let key = exported_key(&server.data_dir);
    let stand_in = refusing_stand_in().await;
    let batch = events(4, false);
    common::a_pinned_node_gives_up_nothing(
        &stand_in,
        key,
        "",
        dir.path(),
        &batch,
        "carries no `answerSig`: it is not signed by a pinned server key",
    )
    .await;
    // The server itself: the events the stand-in refused are delivered, each once.
    common::the_server_itself_stores_each_once(&server, key, dir.path(), &batch).await;
}
