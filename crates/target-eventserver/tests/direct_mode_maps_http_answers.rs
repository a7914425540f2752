//! With `spool = false`, `send` posts at once and turns each HTTP answer into the
//! dispatcher's error classes: retryable (with `Retry-After`), permanent (with the
//! server's message), or rejected for exactly the events the server refuses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, Answer, FakeServer};

fn direct(server: &FakeServer, dir: &std::path::Path) -> EventServerTarget {
    let mut c = EventServerConfig::new(server.url());
    c.spool = false;
    c.auth_key = "secret-1".into();
    c.backoff_initial_ms = 1;
    EventServerTarget::new(c, &ctx(dir, "direct")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_statuses_become_retryable_errors_with_retry_after() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = direct(&server, dir.path());
    server.push(Answer {
        status: 503,
        retry_after: Some("7"),
        body: "{\"error\":\"disk under floor\"}".into(),
    });
    match t.send(&events(3, false)).await {
        Err(TargetError::Retryable {
            message,
            retry_after,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
            assert!(
                message.contains("503") && message.contains("disk under floor"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    for status in [408, 429, 500] {
        server.push(Answer::status(status, "busy"));
        let r = t.send(&events(1, false)).await;
        assert!(
            matches!(r, Err(TargetError::Retryable { .. })),
            "{status}: {r:?}"
        );
    }
    // Nothing reached the store through those answers; the next send succeeds.
    assert!(server.stored().is_empty());
    t.send(&events(2, false)).await.unwrap();
    assert_eq!(server.stored().len(), 2);
    let auth = server.script.lock().unwrap().auth.clone();
    assert!(
        auth.iter().all(|a| a.as_deref() == Some("Bearer secret-1")),
        "{auth:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retryable() {
    // A port held by the test process, where nothing listens.
    let port = auditrail_testkit::port::down().port();
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(format!("http://127.0.0.1:{port}"));
    c.spool = false;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "down")).unwrap();
    let r = t.send(&events(1, false)).await;
    assert!(matches!(r, Err(TargetError::Retryable { .. })), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_statuses_carry_the_servers_message() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = direct(&server, dir.path());
    for status in [401, 400, 413, 415] {
        // 400 and 413 are split down to single events; script enough answers.
        for _ in 0..8 {
            server.push(Answer::status(status, "{\"error\":\"nope\",\"line\":1}"));
        }
        match t.send(&events(3, false)).await {
            Err(TargetError::Permanent { message }) => {
                assert!(
                    message.contains(&status.to_string()) && message.contains("nope"),
                    "{message}"
                )
            }
            other => panic!("{status}: {other:?}"),
        }
        server.script.lock().unwrap().answers.clear();
    }
    assert!(server.stored().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_events_the_server_forbids_are_rejected() {
    let server = FakeServer::start().await;
    server.script.lock().unwrap().forbidden_key = Some("forbidden".into());
    let dir = tempfile::tempdir().unwrap();
    let mut t = direct(&server, dir.path());
    let batch = events(10, true);
    match t.send(&batch).await {
        Err(TargetError::Rejected { rejected }) => {
            let idx: Vec<usize> = rejected.iter().map(|(i, _)| *i).collect();
            assert_eq!(idx, vec![0, 3, 6, 9]);
            assert!(
                rejected.iter().all(|(_, m)| m.contains("403")),
                "{rejected:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let stored: Vec<_> = server.stored().iter().map(|e| e.id).collect();
    let allowed: Vec<_> = batch
        .iter()
        .filter(|e| e.routing_key.as_ref().unwrap().as_str() == "allowed")
        .map(|e| e.id)
        .collect();
    let mut s = stored.clone();
    s.sort();
    let mut a = allowed.clone();
    a.sort();
    assert_eq!(s, a, "every allowed event stored, no forbidden one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_carry_the_same_events() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (i, compression) in ["gzip", "zstd"].iter().enumerate() {
        let c: EventServerConfig = serde_json::from_value(serde_json::json!({
            "url": server.url(), "spool": false, "compression": compression
        }))
        .unwrap();
        let mut t = EventServerTarget::new(c, &ctx(dir.path(), &format!("c{i}"))).unwrap();
        let batch = events(50, false);
        t.send(&batch).await.unwrap();
        let stored = server.stored();
        let tail: Vec<_> = stored[stored.len() - 50..].iter().map(|e| e.id).collect();
        assert_eq!(tail, batch.iter().map(|e| e.id).collect::<Vec<_>>());
        let enc = server
            .script
            .lock()
            .unwrap()
            .encodings
            .last()
            .cloned()
            .flatten();
        assert_eq!(enc.as_deref(), Some(*compression));
    }
}
