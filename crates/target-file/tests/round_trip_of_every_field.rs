//! Every field of an event written by the file target comes back unchanged through
//! the crate's reader, and each line carries the logger name.

use crate::common;

use std::time::Duration;

use auditrail_core::{EventDraft, EventId, Timestamp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_survives_the_file_and_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        "node-rt",
        json!({ "dir": dir.path(), "logger_prefix": "dku.audit", "logger_suffix": ".v1" }),
    );
    let id = EventId::new();
    let ts: Timestamp = "2026-11-25T16:55:49.123Z".parse().unwrap();
    let with_key = EventDraft::new("apinode-query", "prediction-query")
        .id(id)
        .timestamp(ts)
        .routing_key("svc-a")
        .auth_user("alice")
        .field("clientIP", "10.0.0.1")
        .field(
            "nested",
            json!({"a": [1, 2.5, null, true], "s": "quote \" and \\ and \n"}),
        )
        .field("unicode", "é漢🙂");
    let without_key = EventDraft::new("authfail", "login-failed").field("authUser", "mallory");
    let e1 = d.emit_acked(with_key).await.unwrap();
    let e2 = d.emit_acked(without_key).await.unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    assert!(read.torn.is_empty());
    assert_eq!(read.events.len(), 2);
    let (a, b) = (&read.events[0], &read.events[1]);
    assert_eq!(a.id, id);
    assert_eq!(a.id, e1.id);
    assert_eq!(a.seq, e1.seq);
    assert_eq!(a.timestamp, ts);
    assert_eq!(a.topic.as_str(), "apinode-query");
    assert_eq!(a.routing_key.as_ref().unwrap().as_str(), "svc-a");
    assert_eq!(a.node.as_str(), "node-rt");
    assert_eq!(
        serde_json::to_value(&a.message).unwrap(),
        json!({"msgType": "prediction-query", "authUser": "alice", "clientIP": "10.0.0.1",
               "nested": {"a": [1, 2.5, null, true], "s": "quote \" and \\ and \n"},
               "unicode": "é漢🙂"})
    );
    assert_eq!((b.id, b.seq), (e2.id, e2.seq));
    assert!(b.routing_key.is_none());
    assert_eq!(b.msg_type(), "login-failed");

    // The raw lines: the reference envelope's severity and logger, then the event.
    let text = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["logger"], "dku.audit.apinode-query.v1");
    assert_eq!(lines[1]["logger"], "dku.audit.authfail.v1");
    assert_eq!(lines[0]["severity"], "INFO");
    assert!(text.ends_with('\n'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_can_be_left_out_of_the_logger_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        "node-rt",
        json!({ "dir": dir.path(), "append_topic_to_logger": false }),
    );
    d.emit_acked(common::sample(0)).await.unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let text = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(line["logger"], "audit");
    assert_eq!(
        auditrail_target_file::read_audit_file(dir.path().join("audit.log"))
            .unwrap()
            .events[0]
            .msg_type(),
        "test-event"
    );
}
