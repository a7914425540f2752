//! `/v1/stats` (`witnesses`) and `/metrics` (`auditrail_server_witness_*`) show where
//! the checkpoint lines for the `[[witnesses]]` stand: with the witness down, the
//! published lines are handed to the witness dispatcher and wait in the witness's
//! spool, and both endpoints say so, with the same numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, request, start};

/// The value of the sample `name{labels}` (labels as written in the exposition).
fn sample(metrics: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{labels} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn a_witness_that_is_down_shows_as_lines_waiting_in_its_spool() {
    let dir = tempfile::tempdir().unwrap();
    // A port held by the test, nobody listening: the witness is down.
    let down = auditrail_testkit::port::Port::new();
    let down_addr = down.addr();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\nshutdown_timeout_s = 1\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\nname = \"w1\"\ntype = \"eventserver\"\nurl = \"http://{down_addr}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    for batch in 0..2u64 {
        let body: String = (batch * 10 + 1..=batch * 10 + 10)
            .map(|n| event_line(&new_id(n, 7), "n1", n) + "\n")
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    // Two lines published (one per 10 records); polled until both are handed over.
    let until = Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let (status, body) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
        assert_eq!(status, 200, "{body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        let w = &stats["witnesses"];
        if w["linesHanded"] == 2 && w["pendingLines"] == 0 && w["targets"][0]["queueDepth"] == 0 {
            break stats;
        }
        assert!(Instant::now() < until, "lines never handed over: {stats:#}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let w = &stats["witnesses"];
    assert_eq!(w["oldestPendingMs"], serde_json::Value::Null, "{stats:#}");
    assert_eq!(w["linesFailed"], 0, "{stats:#}");
    let target = &w["targets"][0];
    assert_eq!(target["name"], "w1", "{stats:#}");
    assert_eq!(
        target["spoolPendingEvents"], 2,
        "the witness is down: both lines wait in its spool: {stats:#}"
    );

    let (status, metrics) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{metrics}");
    let labels = "{witness=\"w1\",type=\"eventserver\"}";
    for (name, labels, expected) in [
        ("auditrail_server_witness_lines_pending", "", 0.0),
        (
            "auditrail_server_witness_oldest_pending_age_seconds",
            "",
            0.0,
        ),
        ("auditrail_server_witness_lines_handed_total", "", 2.0),
        ("auditrail_server_witness_lines_failed_total", "", 0.0),
        ("auditrail_server_witness_lines_caught_up_total", "", 0.0),
        (
            "auditrail_server_witness_events_delivered_total",
            labels,
            2.0,
        ),
        ("auditrail_server_witness_queue_depth", labels, 0.0),
        ("auditrail_server_witness_spool_pending_events", labels, 2.0),
    ] {
        assert_eq!(
            sample(&metrics, name, labels),
            Some(expected),
            "{name}{labels}: {metrics}"
        );
    }
    server.kill9();
}
