//! `auditrail verify <data dir>` (and `prove --data-dir`, `keys rotate --data-dir`,
//! `store prune`/`accept --data-dir`) looks for the stores under the data dir. Stores
//! were looked for three folders down: the partition stores of a Kafka source whose
//! `store_root` is inside the data dir (`<data dir>/parts/<topic>/<partition>/store`,
//! four down) were left out, so a rolled-back partition store passed `verify <data
//! dir>` ("no store" or the other stores' verdict). Now every command given a data dir
//! takes them (`auditrail_integrity::marks_folder::stores_under`).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use kafka_support::{
    copy_folder, one_source_in_data_dir, produce_events, serve_until_stored, verify_in,
};

#[test]
fn verify_of_the_data_dir_checks_its_partition_stores_and_reports_a_rolled_back_one() {
    let source = one_source_in_data_dir("vdata");
    let (d, topic, public) = (source.dir.path(), &source.topic, source.public.as_str());
    produce_events(&source.brokers, topic, 1, 5, 53);
    serve_until_stored(d, "s.toml", &source.root, 5);
    let store = source.root.join(topic).join("0/store");

    let (code, report) = verify_in(d, &["s-data", "--public-key", public]);
    assert_eq!(code, 0, "{report:#}");
    let checked: Vec<&str> = report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap_or_default())
        .collect();
    assert!(
        checked
            .iter()
            .any(|s| s.ends_with(&format!("parts/{topic}/0/store"))),
        "the partition store is checked: {report:#}"
    );

    // Rolled back to an older copy of itself, consistent in itself.
    copy_folder(&store, &d.join("old-store"));
    produce_events(&source.brokers, topic, 6, 10, 53);
    serve_until_stored(d, "s.toml", &source.root, 10);
    std::fs::remove_dir_all(&store).unwrap();
    copy_folder(&d.join("old-store"), &store);
    let (code, report) = verify_in(d, &["s-data", "--public-key", public]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report.to_string().contains("rolled-back"),
        "the rollback is reported: {report:#}"
    );
}
