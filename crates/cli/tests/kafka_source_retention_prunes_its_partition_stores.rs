//! `retention = "30d"` in a Kafka source: the storing server prunes each partition
//! store it owns, as it prunes a `store` destination with a retention. A partition
//! store opened on an assignment (after the start's check) is pruned at once; each
//! deletion is signed in the store's checkpoint log and raises the high-water mark in
//! its partition folder, the numbers it deleted go to the store's
//! `.deleted-seqs.jsonl`, the pass is logged and counted in `/metrics` (labelled by
//! source, topic and partition); `auditrail verify <data dir>` passes afterwards, and
//! the next start resumes the partition where the store ends, storing nothing again.
//! Before, a source had no `retention` key (refused as unknown): partition stores grew
//! for ever unless pruned by hand with the servers stopped.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{
    id_counts, one_source_in_data_dir, produce_dated, serve_until_stored, verify_in,
};
use serve_support::{request, start, wait_for_log};

/// The hour folders (`YYYY/mm/dd/HH`) that hold segments in `store`, sorted.
fn hours(store: &std::path::Path) -> Vec<String> {
    let files = auditrail_store::StoreFiles::walk(store).unwrap();
    let mut out: Vec<String> = files
        .segments()
        .map(|f| {
            let folder = f.rel.rsplit_once('/').unwrap().0;
            let parts: Vec<&str> = folder.rsplitn(5, '/').take(4).collect();
            parts.into_iter().rev().collect::<Vec<_>>().join("/")
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn old_partitions_of_a_partition_store_go_and_verify_of_the_data_dir_passes() {
    let source = one_source_in_data_dir("pret");
    let (d, topic, public) = (source.dir.path(), &source.topic, source.public.as_str());
    let now = auditrail::Timestamp::now().to_string();
    // 6 events of two old days, then 4 of now (the newest record, kept).
    produce_dated(
        &source.brokers,
        topic,
        1..=3,
        71,
        "2025-01-01T10:00:00.000Z",
    );
    produce_dated(
        &source.brokers,
        topic,
        4..=6,
        71,
        "2025-02-01T11:00:00.000Z",
    );
    produce_dated(&source.brokers, topic, 7..=10, 71, &now);
    // Stored by a server without a retention.
    serve_until_stored(d, "s.toml", &source.root, 10);
    let part = source.root.join(topic).join("0");
    let store = part.join("store");
    assert_eq!(hours(&store).len(), 3, "{:?}", hours(&store));

    // The same server with `retention = "30d"` in its source.
    let config = std::fs::read_to_string(d.join("s.toml")).unwrap();
    assert!(config.contains("[sources.librdkafka]"), "{config}");
    std::fs::write(
        d.join("s-ret.toml"),
        config.replace(
            "[sources.librdkafka]",
            "retention = \"30d\"\n[sources.librdkafka]",
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "s-ret.toml"]);
    // The store is opened when the group assigns the partition, seconds after the
    // start's retention check: it is pruned then, not 10 minutes later.
    wait_for_log(&server, "retention deleted time partitions");
    let family = "auditrail_server_store_retention_records_deleted_total{";
    let until = Instant::now() + Duration::from_secs(30);
    let deleted = loop {
        let (status, metrics) = request(&server.addr, "GET", "/metrics", &[], b"").unwrap();
        assert_eq!(status, 200);
        let line = metrics
            .lines()
            .find(|l| l.starts_with(family) && l.contains(&format!("topic=\"{topic}\"")))
            .map(str::to_owned);
        if let Some(line) = line.filter(|l| !l.ends_with(" 0")) {
            break line;
        }
        assert!(Instant::now() < until, "{metrics}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        deleted.contains("source=\"kafka\"") && deleted.contains("partition=\"0\""),
        "{deleted}"
    );
    assert!(deleted.ends_with(" 6"), "{deleted}\n{}", server.stderr());
    let log = server.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains("retention deleted time partitions")
                && l.contains(&format!("topic={topic}"))
                && l.contains("records=6")),
        "the pass is logged naming the partition store: {log}"
    );
    assert_eq!(server.terminate(), 0);

    // Only the hour of now is left; the deletion is signed in the store's log, its
    // numbers listed beside it, and the mark in the partition folder raised to it.
    assert_eq!(hours(&store).len(), 1, "{:?}", hours(&store));
    let checkpoints = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    let deletion = checkpoints
        .lines()
        .rfind(|l| l.contains("\"reason\":\"retention: older than 30d\""))
        .unwrap_or_else(|| panic!("{checkpoints}"));
    let deletion: serde_json::Value = serde_json::from_str(deletion).unwrap();
    let seqs = std::fs::read_to_string(store.join(auditrail_store::DELETED_SEQS_FILE)).unwrap();
    assert!(seqs.contains("\"node\":\"node-1\""), "{seqs}");
    assert!(seqs.contains("[1,6]"), "{seqs}");
    let mark = std::fs::read_to_string(part.join("high-water.jsonl")).unwrap();
    let marked = mark
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|m| m["checkpoint"].as_u64())
        .max()
        .unwrap_or_else(|| panic!("{mark}"));
    assert!(
        marked >= deletion["checkpoint"].as_u64().unwrap(),
        "the mark in the partition folder covers the deletion line: {mark}\n{deletion}"
    );

    let (code, report) = verify_in(d, &["s-data", "--public-key", public]);
    assert_eq!(code, 0, "{report:#}");
    let checked = report["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["path"]
                .as_str()
                .unwrap_or_default()
                .ends_with(&format!("parts/{topic}/0/store"))
        })
        .unwrap_or_else(|| panic!("the partition store is verified: {report:#}"));
    assert_eq!(checked["deletedRecords"], 6, "{report:#}");

    // The next start resumes where the store ends: nothing deleted comes back, the
    // next event is stored once.
    produce_dated(&source.brokers, topic, 11..=11, 71, &now);
    serve_until_stored(d, "s-ret.toml", &source.root, 5);
    let ids = id_counts(&source.root);
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");
    let (code, report) = verify_in(d, &["s-data", "--public-key", public]);
    assert_eq!(code, 0, "{report:#}");
}
