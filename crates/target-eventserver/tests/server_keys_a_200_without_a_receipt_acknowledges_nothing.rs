//! With `server_keys` set, every acknowledgement must carry a receipt signed by one of
//! them: a `200` without one (no `receipt`, `null`, an empty array) is what anything
//! can answer, and is not taken as delivery. Before, such an answer ("a server without
//! a chained store") acknowledged the batch and the spool forgot the events. A real
//! `auditrail serve` whose store is not chained (`chain = false`) answers so: the
//! spool keeps the events, and the configured server, once at the url, gets them.
//! A direct `send` fails retryably for each shape, saying that the answer carries no
//! receipt.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::EventServerTarget;
use common::server::ServerProcess;
use common::{
    ctx, events, exported_key, pending, quick_spool_config, sorted_ids, Answer, FakeServer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_stay_until_an_answer_with_a_receipt_of_a_listed_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut right = ServerProcess::start(&dir.path().join("right"), None);
    let key = exported_key(&right.data_dir);
    assert_eq!(right.stop(), Some(0));
    let unchained_dir = dir.path().join("unchained");
    std::fs::create_dir_all(&unchained_dir).unwrap();
    let config = unchained_dir.join("server.toml");
    std::fs::write(
        &config,
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nchain = false\n",
    )
    .unwrap();
    let unchained = ServerProcess::start(&unchained_dir, Some(&config));

    let batch = events(5, false);
    {
        let mut c = quick_spool_config(unchained.url.clone());
        c.server_keys = vec![key];
        let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
        t.send(&batch).await.unwrap();
        common::wait_refused_answers(&t, 2).await;
        let m = t.metrics();
        assert!(m.retries >= 2, "the server's answers never came: {m:?}");
        assert_eq!(
            pending(&t),
            5,
            "a 200 without a receipt was taken as the acknowledgement"
        );
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        t.shutdown().await.unwrap();
    }
    assert_eq!(
        unchained.stored().len(),
        5,
        "the server did answer the batch"
    );
    assert!(!dir.path().join("run/deadletter/es.jsonl").exists());

    right.restart();
    let mut c = quick_spool_config(right.url.clone());
    c.server_keys = vec![key];
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    assert_eq!(
        sorted_ids(right.stored().iter().map(|(_, e)| e)),
        sorted_ids(batch.iter().map(|e| &**e)),
        "every spooled event stored at the configured server, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_send_fails_retryably_for_each_answer_without_a_receipt() {
    let fake = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = quick_spool_config(fake.url());
    c.spool = false;
    c.server_keys = vec![
        "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
            .parse()
            .unwrap(),
    ];
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    let batch = events(3, false);
    for (receipt, said) in [
        (None, "no `receipt`, or `receipt` is null"),
        (Some("null"), "no `receipt`, or `receipt` is null"),
        (Some("[]"), "an empty `receipt` array"),
    ] {
        let body = match receipt {
            None => r#"{"accepted":3,"duplicates":0,"durable":true}"#.to_owned(),
            Some(r) => format!(r#"{{"accepted":3,"duplicates":0,"durable":true,"receipt":{r}}}"#),
        };
        fake.script.lock().unwrap().every = Some(Answer::status(200, &body));
        match t.send(&batch).await {
            Err(TargetError::Retryable { message, .. }) => assert!(
                message.contains(&fake.url())
                    && message.contains(&format!("it carries no receipt ({said})"))
                    && message.contains("`server_keys` is set"),
                "{body}: {message}"
            ),
            other => panic!("200 {body} acknowledged the batch: {other:?}"),
        }
    }
}
