//! A `url` that answers with a redirect (a load balancer's http -> https, an old host
//! name) is not followed when following would change the request: `301`, `302`, `303`
//! (an HTTP client sends the batch again as a `GET` without its events), or a `307` /
//! `308` to another origin (the `Authorization` header is dropped, the events leave the
//! configured server). The error names the status and the `Location` and says to fix
//! `url`; the events are kept and sent again, never dead-lettered: the fault is the
//! config's. (Before, a `301` was followed as a `GET`, answered `405`, and the events
//! were dead-lettered as refused by the configured url.) A `307` / `308` within the
//! origin keeps method, body and key, and is followed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditrail_core::{Target, TargetError};
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use common::{ctx, events, FakeServer};

/// A server on 127.0.0.1 whose `/v1/events` answers `status` with `Location:
/// location`, and whose `/moved/v1/events` stores like the event server (counting the
/// events and the `Authorization` headers it got).
struct Redirector {
    url: String,
    moved: Arc<Mutex<Vec<Request>>>,
}

/// A request `/moved/v1/events` stored: its events, its `Authorization` header.
type Request = (usize, Option<String>);

async fn redirector(status: u16, location: String) -> Redirector {
    let moved: Arc<Mutex<Vec<Request>>> = Arc::default();
    let kept = moved.clone();
    let app = Router::new()
        .route(
            "/v1/events",
            post(move || {
                let location = location.clone();
                async move {
                    (
                        StatusCode::from_u16(status).unwrap(),
                        [("location", location)],
                    )
                }
            }),
        )
        .route(
            "/moved/v1/events",
            post(move |headers: HeaderMap, body: Bytes| {
                let kept = kept.clone();
                async move {
                    let n = body
                        .split(|b| *b == b'\n')
                        .filter(|l| !l.is_empty())
                        .count();
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_owned());
                    kept.lock().unwrap().push((n, auth));
                    format!("{{\"accepted\":{n},\"duplicates\":0}}").into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Redirector { url, moved }
}

fn config(url: &str, spool: bool) -> EventServerConfig {
    let mut c = EventServerConfig::new(url.to_owned());
    c.auth_key = "node-key".into();
    c.spool = spool;
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 20;
    c.flush_timeout_ms = 300;
    c.shutdown_drain_ms = 50;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_that_changes_the_request_fails_retryably_naming_it() {
    let elsewhere = FakeServer::start().await;
    let location = format!("{}/v1/events", elsewhere.url());
    for status in [301, 302, 303, 307, 308] {
        let r = redirector(status, location.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let mut t = EventServerTarget::new(config(&r.url, false), &ctx(dir.path(), "d")).unwrap();
        let err = t.send(&events(3, false)).await.unwrap_err();
        let TargetError::Retryable { message, .. } = &err else {
            panic!("{status}: not retryable: {err:?}");
        };
        assert!(message.contains(&format!("HTTP {status} ")), "{message}");
        assert!(message.contains(&location), "{message}");
        assert!(message.contains(&r.url), "{message}");
        assert!(message.contains("set `url`"), "{message}");
        assert_eq!(elsewhere.requests(), 0, "{status} was followed");
        t.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spooled_events_redirected_stay_spooled_and_are_not_dead_lettered() {
    let elsewhere = FakeServer::start().await;
    let r = redirector(301, format!("{}/v1/events", elsewhere.url())).await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = EventServerTarget::new(config(&r.url, true), &ctx(dir.path(), "s")).unwrap();
    t.send(&events(5, false)).await.unwrap();
    let flushed = t.flush().await;
    assert!(
        flushed.is_err(),
        "a redirected batch was taken as delivered"
    );
    let stats = t.forwarding().unwrap().stats();
    t.shutdown().await.unwrap();
    assert_eq!(stats.pending_events, 5, "{stats:?}");
    assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    assert!(stats.retries >= 1, "{stats:?}");
    assert!(!dir.path().join("run/deadletter/s.jsonl").exists());
    assert_eq!(elsewhere.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_307_or_308_within_the_origin_is_followed_with_body_and_key() {
    for status in [307, 308] {
        let r = redirector(status, "/moved/v1/events".into()).await;
        let dir = tempfile::tempdir().unwrap();
        let mut t = EventServerTarget::new(config(&r.url, false), &ctx(dir.path(), "d")).unwrap();
        tokio::time::timeout(Duration::from_secs(10), t.send(&events(4, false)))
            .await
            .unwrap()
            .unwrap();
        t.shutdown().await.unwrap();
        assert_eq!(
            *r.moved.lock().unwrap(),
            vec![(4, Some("Bearer node-key".to_owned()))]
        );
    }
}
