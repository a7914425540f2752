//! A node back after an outage longer than the store's retention gives its old events
//! up a batch at a time. The server refuses a batch of events past a store's retention
//! (`400 timestamp_past_retention`) and now lists every such event in `events`, signed
//! (`auditrail-refusal-v2`, asked for with `Auditrail-Refusal-Version: 2`) for a node
//! that pins its key; the node dead-letters all of them at once, each with the
//! server's reason, and sends the rest of the batch again once. Before, the refusal
//! named only the first such event (`line`): the node gave up one event per request
//! and posted the rest again, 1500 refused requests for 1500 old events, while the
//! fresh events waited behind them. Real server process, real HTTP; the refused
//! requests are counted by the server (`/metrics`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use crate::common;

use auditrail_core::{Event, NodeId, Target, Timestamp};
use auditrail_target_eventserver::EventServerTarget;
use common::server::ServerProcess;
use common::{ctx, exported_key, pending, pinned_spool_config, sorted_ids};

/// `n` events of the node, dated `ms_ago` milliseconds back (one millisecond apart),
/// numbered from `seq`.
pub(crate) fn dated(n: usize, ms_ago: i64, seq: u64) -> Vec<Arc<Event>> {
    let node = NodeId::new("test-node").unwrap();
    let now = Timestamp::now().unix_millis();
    (0..n)
        .map(|i| {
            let at = Timestamp::from_unix_millis(now - ms_ago + i as i64).unwrap();
            let d = auditrail_core::EventDraft::new(auditrail_core::topics::GENERIC, "login")
                .field("i", seq + i as u64)
                .routing_key("allowed")
                .timestamp(at);
            Arc::new(d.complete(&node, || seq + i as u64).unwrap())
        })
        .collect()
}

/// The server's count of requests it refused for `reason` (`/metrics`).
pub(crate) async fn refused_requests(url: &str, reason: &str) -> u64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let name = format!("auditrail_server_requests_rejected_total{{reason=\"{reason}\"}}");
    text.lines()
        .find_map(|l| l.strip_prefix(name.as_str()))
        .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
}

const DAY_MS: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_events_are_dead_lettered_a_batch_per_refusal_and_the_fresh_ones_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("server");
    let config = common::server_config(
        &data_dir,
        "[[destinations]]\ntype = \"store\"\npath = \"store\"\nretention = \"1d\"\n",
    );
    let server = ServerProcess::start(&data_dir, Some(&config));
    let key = exported_key(&server.data_dir);
    // 1500 events of three days ago (two batches of at most 1000), then 10 fresh ones.
    let old = dated(1500, 3 * DAY_MS, 1);
    let fresh = dated(10, 0, 10_001);
    let all: Vec<Arc<Event>> = old.iter().chain(&fresh).cloned().collect();

    let mut c = pinned_spool_config(server.url.clone(), key);
    c.request_timeout_ms = 30_000;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    t.send(&all).await.unwrap();
    let flushed = t.flush().await;
    let m = t.metrics();
    assert_eq!(pending(&t), 0, "{flushed:?} {m:?}\n{}", server.log());
    assert_eq!(m.dead_lettered, 1500, "{m:?}");
    t.shutdown().await.unwrap();

    // About one refusal per batch (each lists up to 1000 events), not one per event.
    let refused = refused_requests(&server.url, "timestamp_past_retention").await;
    assert!(
        (1..=4).contains(&refused),
        "{refused} refused requests for 1500 old events in 2 batches"
    );
    let text = std::fs::read_to_string(dir.path().join("run/deadletter/es.jsonl")).unwrap();
    let mut dead = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let error = v["error"].as_str().unwrap();
        assert!(
            error.contains("400") && error.contains("timestamp_past_retention"),
            "{v}"
        );
        // The server's own reason for this event: the store and its retention.
        assert!(error.contains("retention"), "{v}");
        dead.push(v["event"]["id"].as_str().unwrap().to_owned());
    }
    dead.sort();
    assert_eq!(dead, sorted_ids(old.iter().map(|e| &**e)));
    assert_eq!(
        sorted_ids(server.stored().iter().map(|(_, e)| e)),
        sorted_ids(fresh.iter().map(|e| &**e))
    );
}
