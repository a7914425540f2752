//! Events still not delivered when the shutdown deadline passes, because no broker can
//! be reached (nothing listens on the port), are dead-lettered naming librdkafka's
//! error ("Connection refused", "All broker connections are down") as
//! `(last error: …)`, as the eventserver target's are. Before, the target's `send` was
//! still waiting for delivery reports (librdkafka retries on its own inside the delivery
//! timeout), so the dead letter and the shutdown report said only "not delivered before
//! the shutdown deadline" (/work/tryout case `04-kafka-deadletter-without-cause.sh`).
//! Needs no broker.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_given_up_at_the_deadline_name_why_the_broker_was_not_reached() {
    common::init_logs();
    // A loopback port nothing listens on: every connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({
            "brokers": format!("127.0.0.1:{port}"),
            "topic": "unreached",
            // Far beyond the shutdown deadline: `send` is still waiting when it passes.
            "delivery_timeout_ms": 120_000,
        }),
        Filter::all(),
        DeliveryOptions {
            batch_max_wait_ms: 10,
            ..Default::default()
        },
    );
    d.emit(EventDraft::new(topics::GENERIC, "login").routing_key("svc-a"))
        .unwrap();
    // librdkafka reports the refused connection within milliseconds; the deadline is
    // long enough for that first attempt, whatever the machine's load.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = d.shutdown(Duration::from_secs(1)).await;
    assert_eq!(report.targets[0].stats.dead_lettered, 1, "{report:?}");

    let lines = common::dead_letters(dir.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let error = lines[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "not delivered before the shutdown deadline (last error: kafka client error: "
        ),
        "{error}"
    );
    assert!(
        error.contains("Connection refused") || error.contains("broker connections are down"),
        "librdkafka's cause named: {error}"
    );
    let said = report.targets[0].error.as_deref().unwrap_or_default();
    assert!(
        said.contains("(last error: kafka client error: "),
        "the shutdown report names it too: {said}"
    );
}
