//! Events a forwarding destination's spool lost count as lost on the server: with the
//! next hop down, a real `auditrail serve` answers 30 events `200 durable` (they wait in
//! its `eventserver` destination's spool on disk; its sender, one event at a time, has
//! read the first and keeps trying it), the spool folder is removed by hand and the
//! next event finds it gone; `/v1/stats` then counts the 29 the sender had not read
//! (the one it holds may still reach the next hop) in the destination's `lost` and in
//! `forwarding.lostEvents` (`lostSegments` the removed segment), and `/metrics` has
//! them in `auditrail_server_destination_events_dropped_total{reason="spool_lost"}`
//! (what the "events lost" alert watches) and the segment in
//! `auditrail_server_destination_spool_lost_segments_total`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, request, start};

fn stats(addr: &str) -> serde_json::Value {
    let (status, body) = request(addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The value of the sample `name{labels}` (labels as written in the exposition).
fn sample(metrics: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{labels} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn spool_folder_removed_while_the_next_hop_is_down_counts_its_events_as_lost() {
    let dir = tempfile::tempdir().unwrap();
    // A port held by the test, nobody listening: the next hop is down.
    let down = auditrail_testkit::port::Port::new();
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\nshutdown_timeout_s = 1\n[[destinations]]\nname = \"fwd\"\n\
             type = \"eventserver\"\nurl = \"http://{}\"\nmax_in_flight = 1\n\
             send_batch_max_events = 1\n",
            down.addr()
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    for batch in 0..3u64 {
        let body: String = (batch * 10 + 1..=batch * 10 + 10)
            .map(|n| event_line(&new_id(n, 62), "n1", n) + "\n")
            .collect();
        let (status, answer) = post_events(&server.addr, &body, None).unwrap();
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["durable"], true, "{answer}");
    }
    // The sender read one event and tried it (the next hop refused the connection).
    let until = Instant::now() + Duration::from_secs(30);
    let before = loop {
        let s = stats(&server.addr);
        if s["destinations"][0]["forwarding"]["retries"] != 0 {
            break s;
        }
        assert!(Instant::now() < until, "the sender never tried: {s:#}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let d = &before["destinations"][0];
    assert_eq!(d["forwarding"]["pendingEvents"], 30, "{before:#}");
    assert_eq!(d["lost"], 0, "{before:#}");

    let spool = dir.path().join("data/spool/fwd");
    assert!(spool.is_dir(), "no spool at {}", spool.display());
    std::fs::remove_dir_all(&spool).unwrap();
    // The next append finds the folder gone.
    let (status, answer) = post_events(
        &server.addr,
        &(event_line(&new_id(31, 62), "n1", 31) + "\n"),
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{answer}");

    let until = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let s = stats(&server.addr);
        if s["destinations"][0]["forwarding"]["lostEvents"] != 0 {
            break s;
        }
        assert!(Instant::now() < until, "the loss was never counted: {s:#}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let d = &after["destinations"][0];
    assert_eq!(
        d["lost"], 29,
        "the destination's lost counts the spool's: {after:#}"
    );
    assert_eq!(d["forwarding"]["lostEvents"], 29, "{after:#}");
    assert_eq!(d["forwarding"]["lostSegments"], 1, "{after:#}");
    assert!(
        d["forwarding"]["lostBytes"].as_u64().unwrap() > 0,
        "{after:#}"
    );

    let (status, metrics) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{metrics}");
    let labels = "{destination=\"fwd\",type=\"eventserver\"";
    for (name, labels, expected) in [
        (
            "auditrail_server_destination_events_dropped_total",
            format!("{labels},reason=\"spool_lost\"}}"),
            29.0,
        ),
        (
            "auditrail_server_destination_events_dropped_total",
            format!("{labels},reason=\"dead_letter_failed\"}}"),
            0.0,
        ),
        (
            "auditrail_server_destination_spool_lost_segments_total",
            format!("{labels}}}"),
            1.0,
        ),
    ] {
        assert_eq!(
            sample(&metrics, name, &labels),
            Some(expected),
            "{name}{labels}\n{metrics}"
        );
    }
    let bytes = sample(
        &metrics,
        "auditrail_server_destination_spool_lost_bytes_total",
        &format!("{labels}}}"),
    );
    assert_eq!(bytes, d["forwarding"]["lostBytes"].as_f64(), "{metrics}");
}
