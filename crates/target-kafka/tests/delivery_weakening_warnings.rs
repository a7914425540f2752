//! Settings that weaken audit delivery (acks other than all, idempotence off) are
//! logged as warnings when the target is built. No broker needed: building does not
//! connect.

// Test helpers outside #[test] functions: failing loudly is the point.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, Filter, NodeId};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn build_and_capture(properties: serde_json::Value) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let dir = tempfile::tempdir().unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let d = Dispatcher::builder(NodeId::new("n").unwrap())
            .run_dir(dir.path().join("run"))
            .registered_target(
                "kafka",
                &auditrail_target_kafka::REGISTRATION,
                serde_json::json!({"brokers": "127.0.0.1:1", "topic": "t",
                                   "properties": properties}),
                Filter::all(),
                DeliveryOptions::default(),
            )
            .build()
            .unwrap();
        d.shutdown_blocking(Duration::from_secs(5));
    });
    let bytes = captured.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn acks_one_without_idempotence_is_warned_about_at_build_time() {
    let logs = build_and_capture(serde_json::json!({"acks": 1, "enable.idempotence": false}));
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert!(warnings.iter().any(|l| l.contains("acks=1")), "{logs}");
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("enable.idempotence=false")),
        "{logs}"
    );
    assert!(warnings.iter().all(|l| l.contains("kafka")), "{logs}");
}

#[test]
fn the_defaults_build_without_delivery_warnings() {
    let logs = build_and_capture(serde_json::json!({}));
    assert!(
        !logs.contains("acks=") && !logs.contains("idempotence"),
        "{logs}"
    );
}
