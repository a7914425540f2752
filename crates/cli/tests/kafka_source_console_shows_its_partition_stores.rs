//! The web console's store view (real headless Chromium) shows a storing server's
//! partition stores, from `/v1/checkpoints`' `partitionStores`: source, topic and
//! partition, folder, records, integrity and last signed checkpoint, as for its store
//! destinations. Before, it showed the store destinations only: on a server that
//! stores through a Kafka source, an empty table.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::browser_support;
use crate::kafka_support;
use crate::serve_support;

use browser_support::Browser;
use kafka_support::{one_source, produce_events};
use serve_support::{request, start};

#[test]
fn the_status_view_shows_each_open_partition_store() {
    // Set up outside the browser's runtime: the Kafka helpers run their own.
    let source = one_source("cparts", "");
    let (d, topic) = (source.dir.path(), &source.topic);
    produce_events(&source.brokers, topic, 1, 3, 63);
    let server = start(d, &["--config", "s.toml"]);
    // Stored and signed (every batch is sealed).
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = request(&server.addr, "GET", "/v1/checkpoints", &[], b"").unwrap();
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        if answer["partitionStores"][0]["lastCheckpoint"]["seq"] == 3 {
            break;
        }
        assert!(Instant::now() < until, "{body}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(200));
    }
    let path = source.root.join(topic).join("0").join("store");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let browser = Browser::start().await;
        browser.open(&server.addr, "/#status").await;
        browser.wait_state("parts", "status-status", "loaded").await;
        let rows = browser.table("#partition-stores-table").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let row = &rows[0];
        assert_eq!(row[0], "kafka", "source: {row:?}");
        assert_eq!(row[1], format!("{topic}/0"), "partition: {row:?}");
        assert_eq!(row[2], path.display().to_string(), "folder: {row:?}");
        assert_eq!(row[3], "3", "records: {row:?}");
        assert!(
            row[4].contains("signed through record 3"),
            "integrity: {row:?}"
        );
        assert!(row[7].starts_with("3 records"), "vouches for: {row:?}");
        assert!(row[8].starts_with("ed25519:"), "key: {row:?}");
        let shown = browser
            .js(
                "return !document.getElementById('partition-stores').hidden;",
                vec![],
            )
            .await;
        assert_eq!(shown, serde_json::json!(true));
        browser.screenshot("partition-stores").await;
        browser.close().await;
    });
    assert_eq!(server.terminate(), 0);
}
