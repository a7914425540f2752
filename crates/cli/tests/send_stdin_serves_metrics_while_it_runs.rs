//! `[metrics] listen` in the node config: while `auditrail send --stdin` streams from
//! an open pipe (a long-running node), its counters are served as Prometheus metrics on
//! `GET /metrics` over HTTP, and the listener closes when the command ends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_testkit::server::wait_until;

#[test]
fn a_streaming_send_serves_its_counters() {
    let node = common::Node::with_file_target("\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
    let mut send = common::StreamingSend::start(&node, &[]);
    send.write_logins(5);
    assert!(wait_until(Duration::from_secs(30), || {
        node.audit_lines().len() == 5
    }));

    // Port 0 in the config: the bound address is logged.
    let mut address = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            address = common::logged_field(&send.log, "metrics endpoint listening", "address");
            address.is_some()
        }),
        "{}",
        send.stderr()
    );
    let url = format!("http://{}/metrics", address.unwrap());
    let scrape = || {
        let res = reqwest::blocking::get(&url).unwrap();
        assert_eq!(res.status(), 200);
        res.text().unwrap()
    };
    let sample = |body: &str, metric: &str| {
        let scrape =
            prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap();
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get("target") == Some("file-0"))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
                _ => panic!("{metric}: {body}"),
            })
    };
    // The lines are in the file before the worker counts them delivered: wait for the
    // counter (bounded), then check every series of that same scrape.
    let mut body = String::new();
    let delivered = wait_until(Duration::from_secs(30), || {
        body = scrape();
        sample(&body, "auditrail_node_target_events_delivered_total") == Some(5.0)
    });
    assert!(delivered, "{body}");
    assert_eq!(
        sample(&body, "auditrail_node_target_events_accepted_total"),
        Some(5.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "auditrail_node_target_queue_depth"),
        Some(0.0),
        "{body}"
    );
    assert!(
        body.contains("auditrail_node_info{node=\"cli-test-node\"} 1"),
        "{body}"
    );

    let out = send.stop("-TERM");
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));
    assert!(
        reqwest::blocking::get(&url).is_err(),
        "the endpoint is closed once the command ended"
    );
}
