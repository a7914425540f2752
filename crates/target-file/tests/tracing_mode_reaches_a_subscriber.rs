//! `mode = "tracing"`: each event reaches the application's subscriber as a `tracing`
//! event with target `<prefix>.<topic>` and the event's fields; targets can be
//! filtered like any other.

#[path = "common/recorder.rs"]
mod recorder;

use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft, Filter, NodeId};
use recorder::Recorder;
use serde_json::json;
use tracing_subscriber::layer::{Layer, SubscriberExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_become_tracing_events_with_the_logger_as_target() {
    let recorder = Recorder::default();
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("dku.audit", tracing::Level::INFO)
        .with_target("auditrail_target_file", tracing::Level::WARN);
    let subscriber = tracing_subscriber::registry().with(recorder.clone().with_filter(filter));
    // The subscriber current where the dispatcher is built receives the events, even
    // though they are dispatched from the dispatcher's own threads.
    let d = tracing::subscriber::with_default(subscriber, || {
        Dispatcher::builder(NodeId::new("node-tr").unwrap())
            .registered_target(
                "to-tracing",
                &auditrail_target_file::REGISTRATION,
                json!({ "mode": "tracing", "logger_prefix": "dku.audit" }),
                Filter::all(),
                DeliveryOptions::default(),
            )
            .build()
            .unwrap()
    });
    let a = d
        .emit_acked(
            EventDraft::new("authfail", "login-failed")
                .routing_key("svc-a")
                .auth_user("mallory"),
        )
        .await
        .unwrap();
    let b = d
        .emit_acked(EventDraft::new("generic", "login"))
        .await
        .unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let events = recorder.events();
    let audit: Vec<_> = events
        .iter()
        .filter(|e| e.target.starts_with("dku.audit"))
        .collect();
    assert_eq!(audit.len(), 2, "{events:?}");
    let first = audit[0];
    assert_eq!(first.target, "dku.audit.authfail");
    assert_eq!(first.level, tracing::Level::INFO);
    assert_eq!(first.fields["id"], a.id.to_string());
    assert_eq!(first.fields["seq"], a.seq.to_string());
    assert_eq!(first.fields["topic"], "authfail");
    assert_eq!(first.fields["routingKey"], "svc-a");
    assert_eq!(first.fields["node"], "node-tr");
    assert_eq!(first.fields["msgType"], "login-failed");
    assert_eq!(first.fields["logger"], "dku.audit.authfail");
    let message: serde_json::Value = serde_json::from_str(&first.fields["message"]).unwrap();
    assert_eq!(
        message,
        json!({"msgType": "login-failed", "authUser": "mallory"})
    );
    assert!(first.fields["timestamp"].ends_with('Z'));
    let second = audit[1];
    assert_eq!(second.target, "dku.audit.generic");
    assert_eq!(second.fields["id"], b.id.to_string());
    assert!(!second.fields.contains_key("routingKey"));
}
