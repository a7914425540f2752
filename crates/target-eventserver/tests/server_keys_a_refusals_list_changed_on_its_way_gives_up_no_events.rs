//! With `server_keys` set, a refusal's list of events at fault counts only as the
//! server signed it. The node asks for refusals signed over their list
//! (`Auditrail-Refusal-Version: 2`), and gives up every listed event at once: a relay
//! that moved an entry of the server's genuine list to another line (or added one)
//! would make it give up an event the server never refused. Here a relay passes the
//! node's requests on unchanged and the server's `403` back with the list changed: the
//! signature (`auditrail-refusal-v2`, over the list as written) no longer verifies, and
//! the node keeps every event spooled; a direct send fails retryably, saying so. Sent
//! to the server itself, the same spool gives up exactly the two events it refuses.
//! Real server process, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::EventServerTarget;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{ctx, events, pending, pinned_spool_config, sorted_ids};

const SECRET: &str = "node-secret-0123";

/// A relay to `upstream` that hands the server's answer back with `change` made to it.
async fn relay_changing_the_answer(upstream: String, change: fn(&str) -> String) -> String {
    let app = axum::Router::new().route(
        "/v1/events",
        post(move |headers: HeaderMap, body: Bytes| {
            let upstream = upstream.clone();
            async move {
                let resp = reqwest::Client::new()
                    .post(format!("{upstream}/v1/events"))
                    .headers(common::passed_on(&headers, true))
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
                (status, change(&resp.text().await.unwrap()))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The server's list with its entry for line 4 moved to line 5 (a good event).
fn moved(answer: &str) -> String {
    answer.replace(r#"{"line":4,"#, r#"{"line":5,"#)
}

/// The server's list with an entry for line 2 (a good event) added.
fn added(answer: &str) -> String {
    answer.replace(
        r#""events":["#,
        r#""events":[{"line":2,"error":"forbidden","field":"routingKey","message":"no"},"#,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_moved_or_added_to_is_not_taken() {
    for (what, change) in [("moved", moved as fn(&str) -> String), ("added", added)] {
        let dir = tempfile::tempdir().unwrap();
        let (server, key) =
            common::server_with_a_node_key(dir.path(), SECRET, "routing_keys = [\"allowed\"]\n");
        let relay = relay_changing_the_answer(server.url.clone(), change).await;
        // Events 0 and 3 (lines 1 and 4) carry routing key `forbidden`.
        let batch = events(6, true);
        let mut c = pinned_spool_config(relay.clone(), key);
        c.auth_key = SECRET.to_owned();
        let mut t = EventServerTarget::new(c.clone(), &ctx(dir.path(), "es")).unwrap();
        t.send(&batch).await.unwrap();
        common::wait_refused_answers(&t, 2).await;
        let m = t.metrics();
        assert!(m.retries >= 2, "{what}: the refusals never came: {m:?}");
        assert_eq!(pending(&t), 6, "{what}: events left the spool ({m:?})");
        assert_eq!((m.dead_lettered, m.sent_events), (0, 0), "{what}: {m:?}");
        t.shutdown().await.unwrap();
        drop(t);
        assert!(
            !dir.path().join("run/deadletter/es.jsonl").exists(),
            "{what}"
        );

        let mut direct_config = c.clone();
        direct_config.spool = false;
        let mut direct = EventServerTarget::new(direct_config, &ctx(dir.path(), "direct")).unwrap();
        match direct.send(&events(6, true)).await {
            Err(TargetError::Retryable { message, .. }) => {
                assert!(
                    message
                        .contains("is not the configured event server's refusal of this request")
                        && message.contains("does not verify"),
                    "{what}: {message}"
                );
            }
            other => panic!("{what}: the changed list was taken: {other:?}"),
        }
        direct.shutdown().await.unwrap();

        // The same spool, sent to the server itself: its own list is taken.
        c.url = server.url.clone();
        let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
        t.flush().await.unwrap();
        let m = t.metrics();
        assert_eq!((pending(&t), m.dead_lettered), (0, 2), "{what}: {m:?}");
        t.shutdown().await.unwrap();
        let allowed = batch
            .iter()
            .filter(|e| e.routing_key.as_ref().unwrap().as_str() == "allowed");
        assert_eq!(
            sorted_ids(server.stored().iter().map(|(_, e)| e)),
            sorted_ids(allowed.map(|e| &**e)),
            "{what}"
        );
    }
}
