//! A spooled batch the server refuses event by event (400 to every request, naming no
//! event) is split down to single events. The refused events are dead-lettered and
//! leave the spool as the split finds them, front first: a run that ends in the middle
//! of the split keeps that progress, and the next run neither sends those events again
//! nor dead-letters them twice. (Before, nothing was dead-lettered or taken off the
//! spool until the whole split was done, some 2000 requests for 1000 events: a
//! one-shot `auditrail send` with a slowish server never gave them up.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use auditrail_core::Target;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, Answer, FakeServer};

fn spooled(url: String, dir: &Path) -> EventServerTarget {
    let mut c = EventServerConfig::new(url);
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.request_timeout_ms = 60_000;
    c.shutdown_drain_ms = 100;
    c.max_in_flight = 1;
    EventServerTarget::new(c, &ctx(dir, "es")).unwrap()
}

fn dead_lettered_ids(dir: &Path) -> Vec<String> {
    let path = dir.join("run/deadletter/es.jsonl");
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["error"].as_str().unwrap().contains("400"), "{v}");
            v["event"]["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_mid_split_keeps_what_it_settled() {
    const EVENTS: usize = 64;
    // The split of 64 events: 1 + 2 + 4 + 8 + 16 + 32 requests down to the first
    // single event; after 40 answers the first events are settled one by one, and the
    // split is far from done (127 requests in all).
    const ANSWERED: usize = 40;
    let server = FakeServer::start().await;
    {
        let mut s = server.script.lock().unwrap();
        s.every = Some(Answer::status(
            400,
            r#"{"error":"invalid_event","message":"refused"}"#,
        ));
        s.hang_after = Some(ANSWERED);
    }
    let dir = tempfile::tempdir().unwrap();
    let batch = events(EVENTS, false);
    let mut t = spooled(server.url(), dir.path());
    t.send(&batch).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.requests() <= ANSWERED {
        assert!(Instant::now() < deadline, "{} requests", server.requests());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The request after the 40th answer hangs: everything before is settled.
    t.shutdown().await.unwrap();
    let first_run = dead_lettered_ids(dir.path());
    let pending = t.forwarding().unwrap().stats().pending_events;
    drop(t);
    assert!(
        !first_run.is_empty(),
        "after {ANSWERED} answers of 400 nothing was dead-lettered (the split holds \
         everything until it is done)"
    );
    let ids: Vec<String> = batch.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(
        first_run,
        ids[..first_run.len()],
        "refused events are settled front first"
    );
    assert_eq!(
        pending,
        (EVENTS - first_run.len()) as u64,
        "dead-lettered events left the spool"
    );

    // The next run, against a server that takes everything: the dead-lettered events
    // are neither sent again nor dead-lettered twice.
    {
        let mut s = server.script.lock().unwrap();
        s.every = None;
        s.hang_after = None;
    }
    let mut t = spooled(server.url(), dir.path());
    let stored = server.wait_stored(EVENTS - first_run.len()).await;
    tokio::time::timeout(Duration::from_secs(20), t.flush())
        .await
        .unwrap()
        .unwrap();
    t.shutdown().await.unwrap();
    let stored: HashSet<String> = stored.iter().map(|e| e.id.to_string()).collect();
    let dead: HashSet<String> = first_run.iter().cloned().collect();
    assert!(
        stored.is_disjoint(&dead),
        "a dead-lettered event was sent again"
    );
    assert_eq!(stored.len() + dead.len(), EVENTS);
    assert_eq!(
        dead_lettered_ids(dir.path()),
        first_run,
        "dead-lettered once"
    );
    assert_eq!(t.metrics().dead_lettered, 0);
}
