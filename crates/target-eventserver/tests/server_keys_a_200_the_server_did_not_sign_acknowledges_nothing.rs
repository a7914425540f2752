//! With `server_keys` set, a `200` is an acknowledgement only when its `answerSig`
//! verifies under one of them for the request it answers. Another `auditrail serve` at
//! the url (an impostor, a misrouted proxy, a DNS mistake) signs its answers with its
//! own key: a real one without a chained store answers without any receipt, and a
//! node refused it only because a receipt was missing; now its answer is refused
//! naming the key that signed it, and the spool keeps the events until the configured
//! server, at the url, gets them. A `200` without `answerSig` (a server older than
//! the node, or anything else at the url) is refused too, saying so, even when its
//! receipt is validly signed by a listed key: a receipt is not bound to the request,
//! and such an answer could be one captured earlier. Before, that answer was taken.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::EventServerTarget;
use common::server::ServerProcess;
use common::{
    ctx, events, exported_key, pending, pinned_spool_config, server_config, sorted_ids, Answer,
    FakeServer,
};
use ed25519_dalek::{Signer, SigningKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_wait_for_the_server_whose_key_signs_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut right = ServerProcess::start(&dir.path().join("right"), None);
    let key = exported_key(&right.data_dir);
    assert_eq!(right.stop(), Some(0));
    // An impostor that gives no receipt at all: no chained store.
    let impostor_dir = dir.path().join("impostor");
    let config = server_config(
        &impostor_dir,
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nchain = false\n",
    );
    let impostor = ServerProcess::start(&impostor_dir, Some(&config));
    let impostor_key = exported_key(&impostor.data_dir);

    let batch = events(5, false);
    {
        let c = pinned_spool_config(impostor.url.clone(), key);
        let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
        t.send(&batch).await.unwrap();
        common::wait_refused_answers(&t, 2).await;
        let m = t.metrics();
        assert!(m.retries >= 2, "the impostor's answers never came: {m:?}");
        assert_eq!(
            pending(&t),
            5,
            "an answer signed by a key not in server_keys was taken as the acknowledgement"
        );
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        t.shutdown().await.unwrap();
    }
    assert_eq!(
        impostor.stored().len(),
        5,
        "the impostor did answer the batch"
    );
    assert!(!dir.path().join("run/deadletter/es.jsonl").exists());

    // A direct send says whose signature it is.
    let mut c = pinned_spool_config(impostor.url.clone(), key);
    c.spool = false;
    let mut direct = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    match direct.send(&events(2, false)).await {
        Err(TargetError::Retryable { message, .. }) => assert!(
            message.contains(&format!(
                "its `answerSig` is signed by key {impostor_key}, which is not one of \
                 `server_keys` ({key})"
            )),
            "{message}"
        ),
        other => panic!("the impostor's answer acknowledged the batch: {other:?}"),
    }
    direct.shutdown().await.unwrap();

    right.restart();
    let mut t = EventServerTarget::new(
        pinned_spool_config(right.url.clone(), key),
        &ctx(dir.path(), "es"),
    )
    .unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    assert_eq!(
        sorted_ids(right.stored().iter().map(|(_, e)| e)),
        sorted_ids(batch.iter().map(|e| &**e)),
        "every spooled event stored at the configured server, once"
    );
}

/// A receipt over records 1..=3 signed by `key`, as the server writes one.
fn receipt_signed_by(key: &SigningKey) -> String {
    let store = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let hash = "ab".repeat(32);
    let sig = key.sign(auditrail_core::receipt::signed_text(store, 1, 3, &hash).as_bytes());
    format!(
        r#"{{"storeId":"{store}","firstSeq":1,"lastSeq":3,"chainHash":"{hash}","key":"ed25519:{}","sig":"{}"}}"#,
        hex::encode(key.verifying_key().as_bytes()),
        hex::encode(sig.to_bytes())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_send_fails_retryably_for_each_answer_without_answer_sig() {
    let fake = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let server_key = SigningKey::from_bytes(&[5; 32]);
    let pinned = format!(
        "ed25519:{}",
        hex::encode(server_key.verifying_key().as_bytes())
    );
    let mut c = pinned_spool_config(fake.url(), pinned.parse().unwrap());
    c.spool = false;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    let batch = events(3, false);
    for receipt in [
        None,
        Some("null".to_owned()),
        Some("[]".to_owned()),
        // What a server older than the node answers: a receipt signed by the pinned
        // key, which could as well be one captured from an earlier answer.
        Some(receipt_signed_by(&server_key)),
    ] {
        let body = match &receipt {
            None => r#"{"accepted":3,"duplicates":0,"durable":true}"#.to_owned(),
            Some(r) => format!(r#"{{"accepted":3,"duplicates":0,"durable":true,"receipt":{r}}}"#),
        };
        fake.script.lock().unwrap().every = Some(Answer::status(200, &body));
        match t.send(&batch).await {
            Err(TargetError::Retryable { message, .. }) => assert!(
                message.contains(&fake.url())
                    && message.contains("it carries no `answerSig`")
                    && message.contains("older than this node"),
                "{body}: {message}"
            ),
            other => panic!("200 {body} acknowledged the batch: {other:?}"),
        }
    }
}
