//! With `server_keys` set, a genuine answer of the configured server, captured from an
//! earlier request and played back (by a stand-in at the url, a caching or replaying
//! proxy) to another request, acknowledges nothing: its `answerSig` signs the earlier
//! request's nonce, and the node sends a fresh one with each request. Before, its
//! counts were the batch's size and its receipt was signed by the pinned key, so the
//! node took it as delivery and forgot the events. Here the stand-in plays back the
//! server's answer to a batch of the same size: the spool keeps the events, a direct
//! `send` fails retryably saying the signature is not this request's, and the server
//! itself, at the url, acknowledges them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::server::ServerProcess;
use common::{ctx, events, exported_key, pending, pinned_spool_config, Answer, FakeServer};

/// The server's answer to `POST /v1/events` of `events`, sent with `nonce`, as a node
/// sends it.
async fn genuine_answer(
    url: &str,
    events: &[std::sync::Arc<auditrail_core::Event>],
    nonce: &str,
) -> String {
    let mut body = Vec::new();
    for e in events {
        e.write_json(&mut body);
        body.push(b'\n');
    }
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/events"))
        .header("content-type", "application/x-ndjson")
        .header(auditrail_core::answer::NONCE_HEADER, nonce)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_played_back_answer_keeps_the_events_until_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let key = exported_key(&server.data_dir);
    // The server's answer to an earlier request: 5 events, a receipt and an
    // `answerSig` of the pinned key.
    let captured = genuine_answer(
        &server.url,
        &events(5, false),
        "0123456789abcdef0123456789abcdef",
    )
    .await;
    let shown: serde_json::Value = serde_json::from_str(&captured).unwrap();
    assert_eq!(shown["accepted"], 5, "{captured}");
    assert_eq!(shown["receipt"]["key"], key.to_string(), "{captured}");
    assert_eq!(shown["answerSig"]["key"], key.to_string(), "{captured}");

    let standin = FakeServer::start().await;
    standin.script.lock().unwrap().every = Some(Answer::status(200, &captured));
    let batch = events(5, false);
    {
        let mut t = EventServerTarget::new(
            pinned_spool_config(standin.url(), key),
            &ctx(dir.path(), "es"),
        )
        .unwrap();
        t.send(&batch).await.unwrap();
        common::wait_refused_answers(&t, 2).await;
        let m = t.metrics();
        assert!(m.retries >= 2, "the stand-in's answers never came: {m:?}");
        assert_eq!(
            pending(&t),
            5,
            "an answer played back from another request was taken as the acknowledgement"
        );
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        assert!(
            !dir.path().join("run/receipts").exists(),
            "the played back receipt is kept as the node's proof"
        );
        t.shutdown().await.unwrap();
    }

    common::direct_send_is_refused_as_another_requests_answer(
        standin.url(),
        key,
        dir.path(),
        5,
        "the played back answer",
    )
    .await;

    // The server itself: its answers to the node's own requests deliver the events.
    common::the_server_itself_stores_each_once(&server, key, dir.path(), &batch).await;
}
