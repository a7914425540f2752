//! A start that cannot listen (its port is taken) stops what it started before it
//! returns the error, as a shutdown does: each store ends with its clean stop's signed
//! checkpoint, and nothing is left running on a data dir whose lock the refusal lets
//! go. Before, the dispatcher, the stores' checkpoint tasks and the sources were left
//! running: the next start met their writes, and the store's log said no clean stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_port_is_taken_ends_its_store_with_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let text = format!(
        "listen = \"{}\"\ndata_dir = {:?}\n{STORE}",
        taken.local_addr().unwrap(),
        dir.path().join("data").display().to_string()
    );
    let config =
        auditrail_eventserver::config::ServerConfig::parse(&text, "test.toml", false, &registry())
            .unwrap();
    let err = match auditrail_eventserver::server::start(config).await {
        Ok(_) => panic!("the server listened on a port already taken"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&taken.local_addr().unwrap().to_string()),
        "{err}"
    );
    let log = std::fs::read_to_string(
        dir.path()
            .join("data/store")
            .join(auditrail_store::CHECKPOINT_LOG),
    )
    .unwrap();
    let last = log.lines().last().unwrap();
    assert!(
        last.contains("\"cleanStop\":true"),
        "the store's last checkpoint is no clean stop: {log}"
    );
    // And the data dir is free: a start on another port goes ahead.
    let again = config_from(dir.path(), STORE);
    let running = auditrail_eventserver::server::start(again).await.unwrap();
    let report = running.shutdown().await;
    assert!(report.destinations.is_clean(), "{:?}", report.destinations);
}
