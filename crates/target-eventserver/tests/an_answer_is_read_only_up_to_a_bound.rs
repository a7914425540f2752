//! An answer's body is read only up to a bound: whatever answers at the target's url
//! (a misconfigured reverse proxy, a file server, a hostile host) may send a body of
//! gigabytes or one that never ends, and the node must neither buffer it nor wait for
//! its end. A success status whose body is longer than any event server's answer
//! acknowledges nothing: a direct `send` fails retryably naming the url and the bound,
//! long before the request timeout, and the spool keeps the events. An error status
//! keeps the start of its body for the message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::{Duration, Instant};

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, FakeServer, LongAnswer};

/// The most bytes of an answer the target reads (`ANSWER_MAX_BYTES` in client.rs).
const LIMIT: &str = "1048576 bytes";

/// Far longer than the bound: 64 MiB, streamed in chunks of 64 KiB.
const LONG: usize = 64 * 1024 * 1024;

/// A body that starts like the event server's answer and does not end for 64 MiB.
fn long_200() -> LongAnswer {
    LongAnswer {
        status: 200,
        start: r#"{"accepted":3,"duplicates":0,"note":""#.into(),
        filler: b'a',
        bytes: LONG,
    }
}

/// A request timeout far longer than the test: without the bound, the error would be
/// a timeout (a body that never ends) or a parse error (a body read whole).
const REQUEST_TIMEOUT_MS: u64 = 60_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_send_fails_retryably_naming_the_url_and_the_bound() {
    let fake = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(fake.url());
    c.spool = false;
    c.request_timeout_ms = REQUEST_TIMEOUT_MS;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    let batch = events(3, false);

    fake.script.lock().unwrap().every_long = Some(long_200());
    match t.send(&batch).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(
                message.contains(&format!("{}/v1/events", fake.url()))
                    && message.contains("200")
                    && message.contains(LIMIT),
                "{message}"
            );
            assert!(message.len() < 2000, "bounded: {} bytes", message.len());
        }
        other => panic!("a 200 with a 64 MiB body must not acknowledge the batch: {other:?}"),
    }
    assert!(fake.stored().is_empty());

    // The same batch again (as the dispatcher retries it), now answered by the server.
    fake.script.lock().unwrap().every_long = None;
    t.send(&batch).await.unwrap();
    let stored: Vec<_> = fake.stored().iter().map(|e| e.id).collect();
    assert_eq!(stored, batch.iter().map(|e| e.id).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_stay_until_the_event_server_answers() {
    let fake = FakeServer::start().await;
    fake.script.lock().unwrap().every_long = Some(long_200());
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(fake.url());
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.request_timeout_ms = REQUEST_TIMEOUT_MS;
    c.shutdown_drain_ms = 300;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    let pending = |t: &EventServerTarget| t.forwarding().unwrap().stats().pending_events;
    let batch = events(5, false);
    t.send(&batch).await.unwrap();

    // Three requests answered with the long body (or the events let go of).
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.requests() < 3 && pending(&t) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        pending(&t),
        5,
        "a 200 with a 64 MiB body was taken as the server's acknowledgement"
    );
    let m = t.metrics();
    assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
    assert!(m.retries >= 2, "{m:?}");
    assert!(fake.stored().is_empty());

    // The event server answers: the spool delivers what it kept, once each.
    fake.script.lock().unwrap().every_long = None;
    assert_eq!(fake.wait_stored(5).await.len(), 5);
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    let stored: Vec<_> = fake.stored().iter().map(|e| e.id).collect();
    assert_eq!(stored, batch.iter().map(|e| e.id).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_status_keeps_the_start_of_a_long_body() {
    let fake = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(fake.url());
    c.spool = false;
    c.request_timeout_ms = REQUEST_TIMEOUT_MS;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();

    fake.script.lock().unwrap().every_long = Some(LongAnswer {
        status: 503,
        start: "upstream overloaded ".into(),
        filler: b'x',
        bytes: LONG,
    });
    match t.send(&events(2, false)).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(
                message.contains("503") && message.contains("upstream overloaded"),
                "{message}"
            );
            assert!(message.len() < 2000, "bounded: {} bytes", message.len());
        }
        other => panic!("a 503 is retryable whatever its body: {other:?}"),
    }
    assert!(fake.stored().is_empty());
}
