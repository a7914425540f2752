//! A storing server's `[[witnesses]]` get every published checkpoint line of its
//! partition stores too (docs/tamper-evidence.md, "Witnesses": every chained store), and
//! `auditrail verify --witness` of a partition store finds them: a partition store
//! rolled back to an older copy, its high-water mark removed with it, is named
//! `rolled-back` by the witness alone. Before, the witnesses got none of them
//! (`lines_handed` stayed 0, the witness topic stayed empty).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use std::process::Command;

use kafka_support::{
    brokers, create_topic, produce_events, read_values, serve_until_stored, shared_key,
    storing_config, unique, verify_in,
};

#[test]
fn a_partition_stores_checkpoints_reach_the_witness_and_catch_its_rollback() {
    let brokers = brokers();
    let topic = unique("wpart");
    let witness_topic = unique("wpart-witness");
    create_topic(&brokers, &topic, 1);
    create_topic(&brokers, &witness_topic, 1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = shared_key(d);
    let root = d.join("parts");
    let config = storing_config("s-data", &key, &brokers, &topic, &unique("g"), &root)
        + &format!(
            "[[witnesses]]\ntype = \"kafka\"\nbrokers = \"{brokers}\"\ntopic = \"{witness_topic}\"\n"
        );
    std::fs::write(d.join("s.toml"), config).unwrap();

    produce_events(&brokers, &topic, 1, 5, 53);
    serve_until_stored(d, "s.toml", &root, 5);
    let partition = root.join(&topic).join("0");
    let cp = |from: &std::path::Path, to: &std::path::Path| {
        let done = Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(done.success());
    };
    cp(&partition.join("store"), &d.join("old-store"));
    produce_events(&brokers, &topic, 6, 10, 53);
    serve_until_stored(d, "s.toml", &root, 10);

    let values = read_values(&brokers, &witness_topic);
    assert!(!values.is_empty(), "the witness topic holds nothing");
    std::fs::write(d.join("witness.jsonl"), values.join("\n") + "\n").unwrap();
    let store = partition.join("store");
    let store_arg = store.to_str().unwrap();
    let args = [
        store_arg,
        "--public-key",
        public.as_str(),
        "--witness",
        "witness.jsonl",
    ];
    let (code, report) = verify_in(d, &args);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["stores"][0]["witnessed"].as_u64().unwrap() >= 2,
        "every start's and stop's line: {report:#}"
    );

    std::fs::remove_dir_all(&store).unwrap();
    cp(&d.join("old-store"), &store);
    std::fs::remove_file(partition.join("high-water.jsonl")).unwrap();
    let (code, report) = verify_in(d, &args);
    assert_eq!(code, 1, "{report:#}");
    assert!(report.to_string().contains("rolled-back"), "{report:#}");
}
