//! With `server_keys` set, the configured server's genuine answer to OTHER events,
//! posted with this request's nonce, acknowledges nothing. A stand-in at the node's
//! url (a DNS mistake, a hostile proxy) gets the node's Authorization header and nonce
//! with each request; it posts as many events of its own to the real server with that
//! nonce and hands the server's answer back. Before, that answer's `answerSig` (nonce,
//! counts, `durable`, receipt) and receipt verified under the pinned key, and the node
//! forgot events no server has. The server now signs the digest of the body it
//! received too: the spool keeps the events, a direct `send` fails retryably saying
//! the signature is not this request's, and the server itself delivers them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::server::ServerProcess;
use common::{ctx, events, exported_key, pending, pinned_spool_config};

/// A stand-in that relays each request to `upstream` with the node's nonce (and the
/// answer version it asks for) but a batch of as many events of its own, and answers
/// with the server's answer.
async fn body_swapping_relay(upstream: String) -> String {
    let app = Router::new().route(
        "/v1/events",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let upstream = upstream.clone();
            async move {
                let n = body
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count();
                let mut other = Vec::new();
                for e in events(n, false) {
                    e.write_json(&mut other);
                    other.push(b'\n');
                }
                let nonce = headers
                    .get(auditrail_core::answer::NONCE_HEADER)
                    .unwrap()
                    .clone();
                let resp = reqwest::Client::new()
                    .post(format!("{upstream}/v1/events"))
                    .header("content-type", "application/x-ndjson")
                    .header(auditrail_core::answer::NONCE_HEADER, nonce)
                    .header(
                        auditrail_core::answer::VERSION_HEADER,
                        auditrail_core::answer::BOUND_VERSION,
                    )
                    .body(other)
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
                (status, resp.text().await.unwrap())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_other_events_keeps_the_events_until_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let key = exported_key(&server.data_dir);
    let relay = body_swapping_relay(server.url.clone()).await;
    let batch: Vec<Arc<auditrail_core::Event>> = events(5, false);
    {
        let mut t = EventServerTarget::new(
            pinned_spool_config(relay.clone(), key),
            &ctx(dir.path(), "es"),
        )
        .unwrap();
        t.send(&batch).await.unwrap();
        common::wait_refused_answers(&t, 2).await;
        let m = t.metrics();
        assert_eq!(
            pending(&t),
            5,
            "the server's answer to other events was taken as the acknowledgement of these"
        );
        assert!(m.retries >= 2, "the relay's answers never came: {m:?}");
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        t.shutdown().await.unwrap();
    }

    common::direct_send_is_refused_as_another_requests_answer(
        relay,
        key,
        dir.path(),
        3,
        "the answer to other events",
    )
    .await;

    // The server itself: its answers to the node's own requests deliver the events.
    common::the_server_itself_stores_each_once(&server, key, dir.path(), &batch).await;
}
