//! `auditrail verify <store_root>` and `verify --config server.toml` check each
//! partition store of a Kafka source against its own high-water mark, kept beside it
//! (`<store_root>/<topic>/<partition>/high-water.jsonl`, docs/scale-out.md): a partition
//! store rolled back to an older, self-consistent copy of itself is `rolled-back`.
//! Before, both looked for the marks in the data dir only, said "no high-water marks
//! file found" and passed it (only `verify` of the store's own folder caught it).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use kafka_support::{
    copy_folder, one_source_in_data_dir, produce_events, serve_until_stored, verify_in,
};

/// The kinds of the problems of every store of a report.
fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["problems"].as_array().unwrap().iter())
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_rolled_back_partition_store_is_reported_by_verify_of_the_store_root_and_of_the_config() {
    let source = one_source_in_data_dir("vmark");
    let (d, brokers, topic, public) = (
        source.dir.path(),
        &source.brokers,
        &source.topic,
        &source.public,
    );
    let root = &source.root;

    produce_events(brokers, topic, 1, 5, 51);
    serve_until_stored(d, "s.toml", root, 5);
    let partition = root.join(topic).join("0");
    // An older copy, consistent in itself.
    copy_folder(&partition.join("store"), &d.join("old-store"));
    produce_events(brokers, topic, 6, 10, 51);
    serve_until_stored(d, "s.toml", root, 10);

    // Before the rollback both pass, finding every mark.
    let root_arg = root.to_str().unwrap();
    for args in [&["--config", "s.toml"][..], &[root_arg][..]] {
        let (code, report) = verify_in(d, args);
        assert_eq!(code, 0, "{args:?}: {report:#}");
        let notes = report["notes"].to_string();
        assert!(
            !notes.contains("no high-water marks file"),
            "{args:?}: {notes}"
        );
    }

    std::fs::remove_dir_all(partition.join("store")).unwrap();
    copy_folder(&d.join("old-store"), &partition.join("store"));
    for args in [
        &["--config", "s.toml"][..],
        &[root_arg, "--public-key", public.as_str()][..],
    ] {
        let (code, report) = verify_in(d, args);
        assert_eq!(code, 1, "{args:?}: {report:#}");
        assert!(
            kinds(&report).iter().any(|k| k == "rolled-back"),
            "{args:?}: {report:#}"
        );
        let said = report.to_string();
        assert!(
            said.contains(&partition.join("high-water.jsonl").display().to_string()),
            "{args:?} names the partition's marks file: {said}"
        );
    }
}
