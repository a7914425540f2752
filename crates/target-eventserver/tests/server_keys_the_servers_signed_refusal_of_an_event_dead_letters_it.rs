//! With `server_keys` set, the configured server's own refusal of an event still gives
//! that event up: the server signs its final refusals of a request that sends a nonce
//! (`answerSig` over the nonce, the status, the error code, the event it names, the
//! request's credential and the body it read), and the node takes a refusal that
//! verifies for its own request as final. Here the node's key may write only routing
//! key `allowed`: the server refuses each event with routing key `forbidden` (`403`,
//! naming its line), the node dead-letters those alone and delivers the others.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::EventServerTarget;
use common::{ctx, events, pending, pinned_spool_config, sorted_ids};

const SECRET: &str = "node-secret-0123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_servers_403_dead_letters_the_events_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let (server, key) =
        common::server_with_a_node_key(dir.path(), SECRET, "routing_keys = [\"allowed\"]\n");
    // Events 0 and 3 carry routing key `forbidden`.
    let batch = events(6, true);
    let mut c = pinned_spool_config(server.url.clone(), key);
    c.auth_key = SECRET.to_owned();
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    t.send(&batch).await.unwrap();
    let flushed = t.flush().await;
    let m = t.metrics();
    assert_eq!(
        pending(&t),
        0,
        "the server's signed refusal was not taken as final ({flushed:?}, {m:?}); its \
         log:\n{}",
        server.log()
    );
    assert_eq!(m.dead_lettered, 2, "{m:?}");
    t.shutdown().await.unwrap();

    let (refused, allowed): (Vec<_>, Vec<_>) = batch
        .iter()
        .partition(|e| e.routing_key.as_ref().unwrap().as_str() == "forbidden");
    let text = std::fs::read_to_string(dir.path().join("run/deadletter/es.jsonl")).unwrap();
    let mut dead: Vec<String> = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let error = v["error"].as_str().unwrap();
        assert!(error.contains("403") && error.contains("forbidden"), "{v}");
        dead.push(v["event"]["id"].as_str().unwrap().to_owned());
    }
    dead.sort();
    assert_eq!(dead, sorted_ids(refused.iter().map(|e| &***e)));
    assert_eq!(
        sorted_ids(server.stored().iter().map(|(_, e)| e)),
        sorted_ids(allowed.iter().map(|e| &***e))
    );
}
