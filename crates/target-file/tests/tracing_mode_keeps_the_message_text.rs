//! `mode = "tracing"`: the `message` field is the message's text as kept, exactly: a
//! number beyond `f64` (`1E400`, a 30-digit id), `-0` and key order stay as the
//! emitting code or the sending node wrote them, as in the file mode's lines.

#[path = "common/recorder.rs"]
mod recorder;

use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft, Filter, Message, NodeId, Topic};
use recorder::Recorder;
use serde_json::json;
use tracing_subscriber::layer::{Layer, SubscriberExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_field_is_the_kept_text() {
    let recorder = Recorder::default();
    let filter =
        tracing_subscriber::filter::Targets::new().with_target("audit", tracing::Level::INFO);
    let subscriber = tracing_subscriber::registry().with(recorder.clone().with_filter(filter));
    let d = tracing::subscriber::with_default(subscriber, || {
        Dispatcher::builder(NodeId::new("node-tr").unwrap())
            .registered_target(
                "to-tracing",
                &auditrail_target_file::REGISTRATION,
                json!({ "mode": "tracing" }),
                Filter::all(),
                DeliveryOptions::default(),
            )
            .build()
            .unwrap()
    });
    let text = r#"{"msgType":"payment","txId":123456789012345678901234567890,"big":1E400,"z":-0,"a":"\u00e9"}"#;
    let message = Message::from_json(text).unwrap();
    d.emit_acked(EventDraft::from_message(
        Topic::new("generic").unwrap(),
        message,
    ))
    .await
    .unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let events = recorder.events();
    let audit: Vec<_> = events
        .iter()
        .filter(|e| e.target.starts_with("audit"))
        .collect();
    assert_eq!(audit.len(), 1, "{events:?}");
    assert_eq!(audit[0].fields["message"], text);
    assert_eq!(audit[0].fields["msgType"], "payment");
}
