//! With `server_keys` set, a `200` whose receipt is validly signed, but by a key that
//! is not one of them, is not the configured event server's answer: another
//! `auditrail serve` at the url (an impostor, a misrouted proxy, a DNS mistake) signs
//! its receipts with its own key. Before `server_keys`, the node took that answer as
//! the acknowledgement and forgot the events from its spool, though they were not
//! where it meant them to be. Now the spool keeps them (no receipt is kept as the
//! node's proof), a direct `send` fails retryably naming the key that signed and
//! `server_keys`, and the right server, once at the url, gets every event.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::EventServerTarget;
use common::server::ServerProcess;
use common::{ctx, events, exported_key, pending, quick_spool_config, sorted_ids};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_wait_for_the_server_whose_key_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut right = ServerProcess::start(&dir.path().join("right"), None);
    let key = exported_key(&right.data_dir);
    assert_eq!(right.stop(), Some(0));
    let impostor = ServerProcess::start(&dir.path().join("impostor"), None);
    let impostor_key = exported_key(&impostor.data_dir);

    let batch = events(5, false);
    {
        let mut c = quick_spool_config(impostor.url.clone());
        c.server_keys = vec![key];
        let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
        t.send(&batch).await.unwrap();
        common::wait_refused_answers(&t, 2).await;
        assert_eq!(
            pending(&t),
            5,
            "a receipt signed by a key not in server_keys was taken as the server's \
             acknowledgement"
        );
        let m = t.metrics();
        assert!(m.retries >= 2, "the impostor's answers never came: {m:?}");
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        assert!(
            !dir.path().join("run/receipts").exists(),
            "the impostor's receipt is kept as the node's proof"
        );
        t.shutdown().await.unwrap();
    }
    assert!(!dir.path().join("run/deadletter/es.jsonl").exists());
    assert_eq!(
        impostor.stored().len(),
        5,
        "the impostor did answer the batch"
    );

    // A direct send says why.
    let mut c = quick_spool_config(impostor.url.clone());
    c.spool = false;
    c.server_keys = vec![key];
    let mut direct = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    match direct.send(&events(2, false)).await {
        Err(TargetError::Retryable { message, .. }) => assert!(
            message.contains(&format!(
                "is signed by key {impostor_key}, which is not one of `server_keys` ({key})"
            )),
            "{message}"
        ),
        other => panic!("the impostor's answer acknowledged the batch: {other:?}"),
    }
    direct.shutdown().await.unwrap();

    // The right server at the url: the spool delivers what it kept, once each.
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
        "every spooled event stored at the right server, once"
    );
    assert!(
        dir.path().join("run/receipts/es").exists(),
        "the right server's receipt is kept"
    );
}
