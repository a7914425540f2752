//! A node's `[metrics] listen` endpoint, scraped over real HTTP: every family has the
//! dispatcher's figures (a file target that delivers, an eventserver target whose
//! server is down so its events wait in the spool, an event no filter accepts); the
//! format follows the scraper's `Accept`; the endpoint keeps answering with the final
//! figures after the dispatcher shut down, without keeping it alive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use auditrail::metrics::{MetricsError, MetricsServer};
use auditrail::{topics, Dispatcher, EventDraft, NodeConfig};

/// A loopback port with nothing listening, held by this process (a port bound, read
/// and released could be taken by another test's server meanwhile).
fn closed_port() -> u16 {
    auditrail_testkit::port::down().port()
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = format!(
        r#"node = "metrics-node"
run_dir = "{run}"

[metrics]
listen = "127.0.0.1:0"

[[targets]]
type = "file"
name = "audit"
topics = ["generic"]
dir = "{audit}"

[[targets]]
type = "eventserver"
name = "central"
topics = ["generic"]
url = "http://127.0.0.1:{port}"
backoff_initial_ms = 10
backoff_max_ms = 50
"#,
        run = dir.join("run").display(),
        audit = dir.join("audit").display(),
        port = closed_port(),
    );
    let path = dir.join("node.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// The node of [`write_config`], from its file.
fn start_node(dir: &Path) -> (NodeConfig, Dispatcher) {
    let (config, builder) = auditrail::dispatcher_builder_from_file(&write_config(dir)).unwrap();
    (config, builder.build().unwrap())
}

async fn get(addr: std::net::SocketAddr, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("http://{addr}{path}"));
    if let Some(accept) = accept {
        req = req.header("Accept", accept);
    }
    req.send().await.unwrap()
}

async fn scrape(addr: std::net::SocketAddr) -> prometheus_parse::Scrape {
    let res = get(addr, "/metrics", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = res.text().await.unwrap();
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `metric` whose labels include `labels`.
fn value(s: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = s
        .samples
        .iter()
        .filter(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{metric} is not a counter or gauge"),
        })
        .collect();
    assert_eq!(found.len(), 1, "{metric} {labels:?}: {found:?}");
    found[0]
}

const FILE: [(&str, &str); 2] = [("target", "audit"), ("target_type", "file")];
const CENTRAL: [(&str, &str); 2] = [("target", "central"), ("target_type", "eventserver")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_serves_every_counter_of_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let (config, dispatcher) = start_node(dir.path());
    let server = MetricsServer::start_from_config(&config.metrics, &dispatcher)
        .await
        .unwrap()
        .expect("the config has a listen address");
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0, "port 0 is replaced by the bound port");

    for i in 0..10 {
        dispatcher
            .emit_acked(EventDraft::new(topics::GENERIC, "login").field("i", i))
            .await
            .unwrap();
    }
    // No target takes this topic.
    dispatcher
        .emit(EventDraft::new(topics::AUTHFAIL, "login-failed"))
        .unwrap();

    // The server is down: the sender retries until the scrape shows it.
    let mut s = scrape(addr).await;
    for _ in 0..200 {
        if value(&s, "auditrail_node_target_forward_retries_total", &CENTRAL) >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        s = scrape(addr).await;
    }

    assert_eq!(
        value(&s, "auditrail_node_info", &[("node", "metrics-node")]),
        1.0
    );
    assert_eq!(value(&s, "auditrail_node_events_unrouted_total", &[]), 1.0);
    for t in [FILE, CENTRAL] {
        assert_eq!(
            value(&s, "auditrail_node_target_events_accepted_total", &t),
            10.0
        );
        assert_eq!(
            value(&s, "auditrail_node_target_events_delivered_total", &t),
            10.0
        );
        assert_eq!(
            value(&s, "auditrail_node_target_events_retried_total", &t),
            0.0
        );
        assert_eq!(
            value(&s, "auditrail_node_target_events_dead_lettered_total", &t),
            0.0
        );
        assert_eq!(value(&s, "auditrail_node_target_panics_total", &t), 0.0);
        for reason in ["queue_full", "dead_letter_failed"] {
            let labels = [t[0], t[1], ("reason", reason)];
            assert_eq!(
                value(&s, "auditrail_node_target_events_dropped_total", &labels),
                0.0
            );
        }
        // Every event was acknowledged by both targets: the queues are empty.
        assert_eq!(value(&s, "auditrail_node_target_queue_depth", &t), 0.0);
        assert_eq!(
            value(
                &s,
                "auditrail_node_target_oldest_undelivered_age_seconds",
                &t
            ),
            0.0
        );
    }
    // The eventserver target took the events into its spool; none reached the server.
    assert_eq!(
        value(&s, "auditrail_node_target_spool_pending_events", &CENTRAL),
        10.0
    );
    assert!(value(&s, "auditrail_node_target_spool_bytes", &CENTRAL) > 0.0);
    assert_eq!(
        value(&s, "auditrail_node_target_events_forwarded_total", &CENTRAL),
        0.0
    );
    assert_eq!(
        value(
            &s,
            "auditrail_node_target_forward_events_dead_lettered_total",
            &CENTRAL
        ),
        0.0
    );
    assert!(value(&s, "auditrail_node_target_forward_retries_total", &CENTRAL) >= 1.0);
    assert_eq!(
        value(
            &s,
            "auditrail_node_target_spool_damaged_ranges_total",
            &CENTRAL
        ),
        0.0
    );
    assert_eq!(
        value(
            &s,
            "auditrail_node_target_spool_damaged_bytes_total",
            &CENTRAL
        ),
        0.0
    );
    // The file target does not forward: it has no spool figures.
    assert!(!s
        .samples
        .iter()
        .any(|x| x.metric.contains("spool") && x.labels.get("target") == Some("audit")));

    // After the shutdown, the endpoint answers with the final figures.
    let report = dispatcher.shutdown(Duration::from_millis(200)).await;
    drop(report);
    let after = scrape(addr).await;
    assert_eq!(
        value(
            &after,
            "auditrail_node_target_events_delivered_total",
            &FILE
        ),
        10.0
    );
    assert_eq!(
        value(&after, "auditrail_node_target_queue_depth", &FILE),
        0.0
    );
    server.shutdown().await;
    assert!(
        reqwest::get(format!("http://{addr}/metrics"))
            .await
            .is_err(),
        "the listener is closed after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_is_served_when_asked_and_other_paths_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let (config, dispatcher) = start_node(dir.path());
    let server = MetricsServer::start_from_config(&config.metrics, &dispatcher)
        .await
        .unwrap()
        .unwrap();
    let addr = server.local_addr();

    // Prometheus's own Accept header.
    let res = get(
        addr,
        "/metrics",
        Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = res.text().await.unwrap();
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(
        body.contains("# TYPE auditrail_node_target_events_accepted counter\n"),
        "{body}"
    );
    assert!(
        body.contains("# UNIT auditrail_node_target_spool_bytes bytes\n"),
        "{body}"
    );

    assert_eq!(get(addr, "/", None).await.status(), 404);
    assert_eq!(get(addr, "/metrics/x", None).await.status(), 404);
    dispatcher.shutdown(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, dispatcher) = start_node(dir.path());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = MetricsServer::start(addr, dispatcher.stats_reader())
        .await
        .unwrap_err();
    match &err {
        MetricsError::Bind { address, source } => {
            assert_eq!(*address, addr);
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    dispatcher.shutdown(Duration::from_millis(200)).await;
}
