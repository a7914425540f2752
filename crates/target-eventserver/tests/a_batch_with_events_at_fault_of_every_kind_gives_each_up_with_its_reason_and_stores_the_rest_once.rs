//! One batch holding events at fault of several kinds (a routing key the node's key
//! may not write, events older than the store's retention, one dated days ahead, one
//! whose topic is a name the store keeps for its own file) among good ones. The server
//! checks every event and its refusal lists each event at fault with its own code and
//! message; the first one decides the answer's status and `line`. The node gives every
//! listed event up at once, each with its own reason, and sends the good ones again in
//! one request: both delivery paths, the spool (pinned to the server's key: the list
//! is signed, `auditrail-refusal-v2`) and a target without a spool (the dispatcher's
//! path, the list taken at face value). Before, each refusal named one event, and the
//! node spent a refused request per event at fault. Real server process, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use crate::a_backlog_older_than_the_stores_retention_costs_one_refusal_a_batch::refused_requests;
use crate::common;

use auditrail_core::{Event, NodeId, Target, TargetError, Timestamp};
use auditrail_target_eventserver::EventServerTarget;
use common::{ctx, pending, pinned_spool_config, quick_spool_config, sorted_ids};

const SECRET: &str = "node-secret-0123";
const DAY_MS: i64 = 86_400_000;

/// What is wrong with an event of the batch, and the code the server refuses it with.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Good,
    Forbidden,
    Old,
    Ahead,
    Reserved,
}

impl Kind {
    fn code(self) -> Option<&'static str> {
        match self {
            Kind::Good => None,
            Kind::Forbidden => Some("forbidden"),
            Kind::Old => Some("timestamp_past_retention"),
            Kind::Ahead => Some("timestamp_ahead"),
            Kind::Reserved => Some("reserved_name"),
        }
    }
}

const BATCH: [Kind; 9] = [
    Kind::Good,
    Kind::Forbidden,
    Kind::Old,
    Kind::Good,
    Kind::Ahead,
    Kind::Reserved,
    Kind::Good,
    Kind::Old,
    Kind::Forbidden,
];

/// The batch's events, numbered from `seq`.
fn batch(seq: u64) -> Vec<Arc<Event>> {
    let node = NodeId::new("test-node").unwrap();
    let now = Timestamp::now().unix_millis();
    BATCH
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let seq = seq + i as u64;
            let (topic, key, at) = match kind {
                Kind::Good => ("generic", "allowed", now),
                Kind::Forbidden => ("generic", "forbidden", now),
                Kind::Old => ("generic", "allowed", now - 3 * DAY_MS),
                Kind::Ahead => ("generic", "allowed", now + 3 * DAY_MS),
                Kind::Reserved => ("store-id", "allowed", now),
            };
            let d = auditrail_core::EventDraft::new(topic, "t")
                .field("i", seq)
                .routing_key(key)
                .timestamp(Timestamp::from_unix_millis(at).unwrap());
            Arc::new(d.complete(&node, || seq).unwrap())
        })
        .collect()
}

/// Each event's reason matches its kind: (index, reason) for every event at fault.
fn assert_each_refused_for_its_own_fault(refused: &[(usize, String)]) {
    let mut indices: Vec<usize> = refused.iter().map(|(i, _)| *i).collect();
    indices.sort_unstable();
    let expected: Vec<usize> = (0..BATCH.len())
        .filter(|&i| BATCH[i] != Kind::Good)
        .collect();
    assert_eq!(indices, expected, "{refused:#?}");
    for (i, reason) in refused {
        let code = BATCH[*i].code().unwrap();
        assert!(reason.contains(code), "event {i}: {reason}");
        for other in BATCH.iter().filter_map(|k| k.code()).filter(|c| *c != code) {
            assert!(!reason.contains(other), "event {i} ({code}): {reason}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_at_fault_is_given_up_with_its_own_reason_in_one_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("server");
    let config = common::server_config(
        &data_dir,
        &format!(
            "[[destinations]]\ntype = \"store\"\npath = \"store\"\nretention = \"1d\"\n\n\
             [[keys]]\nid = \"node\"\nsecret = \"{SECRET}\"\nrouting_keys = [\"allowed\"]\n"
        ),
    );
    let server = common::server::ServerProcess::start(&data_dir, Some(&config));
    let key = common::exported_key(&server.data_dir);

    // The spool, pinned: the signed list.
    let spooled = batch(1);
    let mut c = pinned_spool_config(server.url.clone(), key);
    c.auth_key = SECRET.to_owned();
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    t.send(&spooled).await.unwrap();
    let flushed = t.flush().await;
    let m = t.metrics();
    assert_eq!(pending(&t), 0, "{flushed:?} {m:?}\n{}", server.log());
    assert_eq!(m.dead_lettered, 6, "{m:?}");
    // The first refusal listed all six; the good events went in the next request.
    assert_eq!((m.requests, m.sent_events), (1, 3), "{m:?}");
    t.shutdown().await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("run/deadletter/es.jsonl")).unwrap();
    let refused: Vec<(usize, String)> = text
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = v["event"]["id"].as_str().unwrap();
            let i = spooled.iter().position(|e| e.id.to_string() == id).unwrap();
            (i, v["error"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_each_refused_for_its_own_fault(&refused);
    // The first event at fault (line 2, forbidden) decides the answer: one refusal.
    assert_eq!(refused_requests(&server.url, "forbidden").await, 1);

    // Without a spool (the dispatcher's path), not pinned: the list as answered.
    let direct_batch = batch(101);
    let mut c = quick_spool_config(server.url.clone());
    c.spool = false;
    c.auth_key = SECRET.to_owned();
    let mut direct = EventServerTarget::new(c, &ctx(dir.path(), "direct")).unwrap();
    match direct.send(&direct_batch).await {
        Err(TargetError::Rejected { rejected }) => {
            assert_each_refused_for_its_own_fault(&rejected);
        }
        other => panic!("{other:?}"),
    }
    let m = direct.metrics();
    assert_eq!((m.requests, m.sent_events), (1, 3), "{m:?}");
    direct.shutdown().await.unwrap();
    assert_eq!(refused_requests(&server.url, "forbidden").await, 2);

    // Each good event stored once, nothing else.
    let good = spooled
        .iter()
        .chain(&direct_batch)
        .enumerate()
        .filter(|(i, _)| BATCH[i % BATCH.len()] == Kind::Good)
        .map(|(_, e)| &**e);
    let stored = server.stored();
    assert_eq!(
        sorted_ids(stored.iter().map(|(_, e)| e)),
        sorted_ids(good),
        "stored once each, and nothing at fault"
    );
}
