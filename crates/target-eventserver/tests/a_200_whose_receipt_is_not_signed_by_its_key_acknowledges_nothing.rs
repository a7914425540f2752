//! A `200` whose counts are right but whose receipt is not one the event server signed
//! (a signature that does not verify under the key the receipt names, a range that
//! ends before it starts, no receipt at all but a string) is not the event server's
//! answer: the server signs every receipt it gives (docs/tamper-evidence.md). Nothing
//! is taken as stored: the spool keeps the events (no receipt is kept as the node's
//! "proof"), a direct `send` fails retryably saying what is wrong with the receipt,
//! and the real server's answers, signed receipts, deliver them once each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::{Duration, Instant};

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::server::ServerProcess;
use common::{ctx, events, pending, Answer, FakeServer};

/// A receipt of the server's shape whose signature is not its key's over its fields
/// (the key is RFC 8032's first test key; the signature is random bytes).
fn forged(first: u64, last: u64) -> String {
    format!(
        r#"{{"storeId":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","firstSeq":{first},"lastSeq":{last},"chainHash":"{}","key":"ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","sig":"{}"}}"#,
        "00".repeat(32),
        "ab".repeat(64)
    )
}

fn answer(events: usize, receipt: &str) -> String {
    format!(r#"{{"accepted":{events},"duplicates":0,"durable":true,"receipt":{receipt}}}"#)
}

fn spooled(url: String, dir: &std::path::Path) -> EventServerTarget {
    EventServerTarget::new(common::quick_spool_config(url), &ctx(dir, "es")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_stay_until_a_signed_receipt_comes() {
    let fake = FakeServer::start().await;
    fake.script.lock().unwrap().every = Some(Answer::status(200, &answer(5, &forged(1, 5))));
    let dir = tempfile::tempdir().unwrap();
    let batch = events(5, false);
    {
        let mut t = spooled(fake.url(), dir.path());
        t.send(&batch).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while fake.requests() < 3 && pending(&t) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            pending(&t),
            5,
            "a 200 whose receipt's signature does not verify was taken as the server's \
             acknowledgement"
        );
        let m = t.metrics();
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        assert!(
            !dir.path().join("run/receipts").exists(),
            "a receipt the server did not sign is kept as the node's proof"
        );
        t.shutdown().await.unwrap();
    }
    assert!(!dir.path().join("run/deadletter/es.jsonl").exists());

    // The event server itself: its signed receipts acknowledge, each event stored once.
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let mut t = spooled(server.url.clone(), dir.path());
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    let mut stored: Vec<String> = server
        .stored()
        .into_iter()
        .map(|(_, e)| e.id.to_string())
        .collect();
    stored.sort();
    let mut sent: Vec<String> = batch.iter().map(|e| e.id.to_string()).collect();
    sent.sort();
    assert_eq!(stored, sent, "every spooled event stored, once");
    assert!(
        dir.path().join("run/receipts/es").exists(),
        "the server's signed receipt is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_send_fails_retryably_saying_what_is_wrong_with_the_receipt() {
    let fake = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(fake.url());
    c.spool = false;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    let batch = events(3, false);
    for (receipt, said) in [
        (forged(1, 3), "does not verify under the key it names"),
        (forged(7, 6), "covers no records"),
        (format!("[{}]", forged(1, 3)), "receipt [0]"),
        (r#""stored, trust me""#.to_owned(), "is not a receipt"),
    ] {
        fake.script.lock().unwrap().every = Some(Answer::status(200, &answer(3, &receipt)));
        match t.send(&batch).await {
            Err(TargetError::Retryable { message, .. }) => assert!(
                message.contains(&fake.url()) && message.contains(said),
                "{receipt}: {message}"
            ),
            other => panic!("200 with the receipt {receipt} acknowledged the batch: {other:?}"),
        }
    }
    // Without a receipt (a server with no chained store) the counts acknowledge.
    fake.script.lock().unwrap().every = None;
    t.send(&batch).await.unwrap();
}
