//! A node's eventserver target spools events while its server is down; between runs a
//! spool segment is cut in place by hand. The next run's `[metrics]` endpoint, scraped
//! over real HTTP, shows the loss: `auditrail_node_target_spool_lost_segments_total`
//! and `auditrail_node_target_spool_lost_bytes_total` for that target (how many events
//! is not known at start: `..._spool_lost_events_total` stays 0).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use auditrail::metrics::MetricsServer;
use auditrail::{topics, Dispatcher, EventDraft, NodeConfig};

/// A loopback port with nothing listening, held by this process (a port bound, read
/// and released could be taken by another test's server meanwhile).
fn closed_port() -> u16 {
    auditrail_testkit::port::down().port()
}

/// A node whose eventserver target's server is down.
fn start_node(dir: &Path, port: u16) -> (NodeConfig, Dispatcher) {
    let config = format!(
        r#"node = "lost-node"
run_dir = "{run}"

[metrics]
listen = "127.0.0.1:0"

[[targets]]
type = "eventserver"
name = "central"
url = "http://127.0.0.1:{port}"
backoff_initial_ms = 10
backoff_max_ms = 50
shutdown_drain_ms = 100
"#,
        run = dir.join("run").display(),
    );
    let path = dir.join("node.toml");
    std::fs::write(&path, config).unwrap();
    let (config, builder) = auditrail::dispatcher_builder_from_file(&path).unwrap();
    (config, builder.build().unwrap())
}

async fn scrape(addr: std::net::SocketAddr) -> prometheus_parse::Scrape {
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of `metric` for the target `central`.
fn central(s: &prometheus_parse::Scrape, metric: &str) -> f64 {
    let found: Vec<f64> = s
        .samples
        .iter()
        .filter(|x| x.metric == metric && x.labels.get("target") == Some("central"))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{metric} is not a counter"),
        })
        .collect();
    assert_eq!(found.len(), 1, "{metric}: {found:?}");
    found[0]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_spool_segment_cut_by_hand_shows_in_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    // The first run in a runtime of its own: when it is dropped, every task of that
    // dispatcher is gone with it, and the run folder's lock too.
    runtime().block_on(async {
        let (_, dispatcher) = start_node(dir.path(), port);
        for i in 0..5 {
            dispatcher
                .emit_acked(EventDraft::new(topics::GENERIC, "login").field("i", i))
                .await
                .unwrap();
        }
        drop(dispatcher.shutdown(Duration::from_secs(10)).await);
    });

    let spool = dir.path().join("run/spool/central");
    let seg = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .expect("a spool segment");
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    runtime().block_on(async {
        let (config, dispatcher) = start_node(dir.path(), port);
        let server = MetricsServer::start_from_config(&config.metrics, &dispatcher)
            .await
            .unwrap()
            .expect("the config has a listen address");
        let s = scrape(server.local_addr()).await;
        assert_eq!(
            central(&s, "auditrail_node_target_spool_lost_segments_total"),
            1.0
        );
        assert_eq!(
            central(&s, "auditrail_node_target_spool_lost_bytes_total"),
            (len - len / 2) as f64
        );
        assert_eq!(
            central(&s, "auditrail_node_target_spool_lost_events_total"),
            0.0
        );
        drop(dispatcher.shutdown(Duration::from_secs(10)).await);
    });
}
