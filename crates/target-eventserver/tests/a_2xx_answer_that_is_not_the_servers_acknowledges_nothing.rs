//! A success status acknowledges a batch only when its body is the event server's
//! answer to that batch: JSON whose `accepted` + `duplicates` count the events posted.
//! Something else answering `200` at the target's url (a reverse proxy's default
//! page, a maintenance page, a wrong port, the counts of no batch) acknowledges
//! nothing: the spool keeps the events, a direct `send` fails retryably naming the
//! url, the status and the start of the body, and the events are delivered once each
//! when the event server answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::{Duration, Instant};

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::server::ServerProcess;
use common::{ctx, events, Answer, FakeServer};

/// What nginx answers at a url it has no site for.
const NGINX_PAGE: &str = "<!DOCTYPE html>\n<html>\n<head><title>Welcome to nginx!</title></head>\n\
                          <body><h1>Welcome to nginx!</h1></body>\n</html>\n";

fn spooled(url: String, dir: &std::path::Path) -> EventServerTarget {
    let mut c = EventServerConfig::new(url);
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.request_timeout_ms = 2000;
    c.shutdown_drain_ms = 300;
    EventServerTarget::new(c, &ctx(dir, "es")).unwrap()
}

/// Events in the spool the server has not confirmed.
fn pending(t: &EventServerTarget) -> u64 {
    t.forwarding().unwrap().stats().pending_events
}

/// Waits until the fake has received `n` requests in all, or the target let go of
/// its events (the fault the callers then report).
async fn wait_requests_or_released(fake: &FakeServer, t: &EventServerTarget, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.requests() < n && pending(t) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_stay_until_the_event_server_answers() {
    let fake = FakeServer::start().await;
    fake.script.lock().unwrap().every = Some(Answer::status(200, NGINX_PAGE));
    let dir = tempfile::tempdir().unwrap();
    let batch = events(5, false);
    {
        let mut t = spooled(fake.url(), dir.path());
        t.send(&batch).await.unwrap();
        wait_requests_or_released(&fake, &t, 3).await;
        assert_eq!(
            pending(&t),
            5,
            "a 200 with an HTML page was taken as the server's acknowledgement"
        );
        // The third request came after the second answer was handled: two retries.
        let m = t.metrics();
        assert_eq!((m.requests, m.sent_events), (0, 0), "{m:?}");
        assert!(m.retries >= 2, "{m:?}");

        // JSON of the right shape, but not counting the batch posted.
        let seen = fake.requests();
        fake.script.lock().unwrap().every = Some(Answer::status(
            200,
            r#"{"accepted":0,"duplicates":0,"durable":true}"#,
        ));
        wait_requests_or_released(&fake, &t, seen + 3).await;
        assert_eq!(
            pending(&t),
            5,
            "a 200 counting 0 of 5 events was taken as the server's acknowledgement"
        );
        assert_eq!(t.metrics().sent_events, 0);
        assert!(
            !dir.path().join("run/deadletter/es.jsonl").exists(),
            "nothing was refused by a server: nothing is dead-lettered"
        );
        t.shutdown().await.unwrap();
    }
    assert!(fake.stored().is_empty());

    // The operator points `url` at the event server: the next start delivers what the
    // spool kept, once each.
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
    let m = t.metrics();
    assert_eq!(
        (m.sent_events, m.accepted, m.duplicates),
        (5, 5, 0),
        "{m:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_send_fails_retryably_naming_the_url_the_status_and_the_body() {
    let fake = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(fake.url());
    c.spool = false;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    let batch = events(3, false);

    // A long page: the error shows its start only, escaped (one log line).
    let page = format!("{NGINX_PAGE}{}", "<!-- padding -->\n".repeat(10_000));
    fake.script.lock().unwrap().every = Some(Answer::status(200, &page));
    match t.send(&batch).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(
                message.contains(&format!("{}/v1/events", fake.url()))
                    && message.contains("200")
                    && message.contains("Welcome to nginx!"),
                "{message}"
            );
            assert!(!message.contains('\n'), "escaped: {message}");
            assert!(message.len() < 2000, "bounded: {} bytes", message.len());
        }
        other => panic!("a 200 with an HTML page must not acknowledge the batch: {other:?}"),
    }
    for body in [
        r#"{"accepted":0,"duplicates":0}"#,
        r#"{"accepted":2,"duplicates":0,"durable":true}"#,
        "{}",
        "",
    ] {
        fake.script.lock().unwrap().every = Some(Answer::status(200, body));
        match t.send(&batch).await {
            Err(TargetError::Retryable { message, .. }) => {
                assert!(message.contains(&fake.url()), "{body}: {message}")
            }
            other => panic!("200 {body:?} for 3 events must not acknowledge them: {other:?}"),
        }
    }
    assert!(fake.stored().is_empty());

    // The same batch again (as the dispatcher retries it), now answered by the server.
    fake.script.lock().unwrap().every = None;
    t.send(&batch).await.unwrap();
    let stored: Vec<_> = fake.stored().iter().map(|e| e.id).collect();
    assert_eq!(stored, batch.iter().map(|e| e.id).collect::<Vec<_>>());
}
