//! `/metrics` carries every number of `/v1/stats`, with the same value, under names
//! that follow the Prometheus conventions: after traffic with a gap, a duplicate, an
//! unrouted event and a dead-lettered one, every numeric field of `/v1/stats` (found by
//! walking the JSON, so a field added later without a metric fails here) has its sample
//! on `/metrics`; every line of `/metrics` is read by the `prometheus-parse` crate; every
//! name is `auditrail_[a-z0-9_]+`, counters and only counters end in `_total`, units are
//! base units in the name, and `/v1/stats` keys are camelCase.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use prometheus_parse::{LineInfo, Scrape, Value as Sample};
use serde_json::{json, Value};
use server_support::*;

const CONFIG: &str = r#"
ack_timeout_ms = 5000

[[destinations]]
name = "main"
type = "store"
path = "store"
topics = ["generic", "apicalls"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stats_number_is_on_metrics_with_the_same_value() {
    // A file where the partition folder of routing key `svc-x` must go: its events
    // are refused for good and dead-lettered (see server_unstorable_event_fails_alone).
    let s = start_with_a_file_in_the_way("generic/svc-x", CONFIG).await;

    let first = event("n1", 1);
    let body = ndjson(&[
        first.clone(),
        event("n1", 2),
        event("n1", 4),
        event_with("n2", 1, "apicalls", Some("svc-a")),
    ]);
    assert_eq!(post(&s, body, None).await.0, 200);
    // A retry of a stored event: a duplicate.
    let (status, _, answer) = post(&s, ndjson(&[first]), None).await;
    assert_eq!((status, answer["duplicates"].clone()), (200, json!(1)));
    // No destination takes `authfail`: unrouted.
    let (status, _, _) = post(&s, ndjson(&[event_with("n3", 1, "authfail", None)]), None).await;
    assert_eq!(status, 422);
    // An unmakeable partition: dead-lettered.
    let (status, _, answer) = post(
        &s,
        ndjson(&[event_with("n2", 2, "generic", Some("svc-x"))]),
        None,
    )
    .await;
    assert_eq!(status, 422, "{answer}");

    let (stats, text) = consistent_read(&s).await;
    assert_eq!(stats["unrouted"], 1, "{stats}");
    assert_eq!(stats["duplicates"], 1, "{stats}");
    assert_eq!(stats["destinations"][0]["deadLettered"], 1, "{stats}");
    assert_eq!(stats["nodes"]["n1"]["missing"], 1, "{stats}");

    every_line_parses(&text);
    let samples = samples(&text);
    names_follow_the_conventions(&text);
    camel_case_keys(&stats, "");

    let mut checked = 0;
    for (path, number) in numbers(&stats) {
        let (name, labels, expected) = metric_of(&path, &number, &stats);
        let key = (name.clone(), labels.clone());
        let got = samples.get(&key).unwrap_or_else(|| {
            panic!(
                "/v1/stats {} = {number}: no {name}{labels:?}",
                path.join(".")
            )
        });
        assert!(
            (got - expected).abs() <= 1e-6 * expected.abs().max(1.0),
            "/v1/stats {} = {number} but {name}{labels:?} = {got}",
            path.join(".")
        );
        checked += 1;
    }
    assert!(checked > 40, "only {checked} numbers checked");
    assert_eq!(
        samples[&("auditrail_server_nodes".to_owned(), BTreeMap::new())],
        stats["nodes"].as_object().unwrap().len() as f64
    );
    assert_eq!(
        samples[&("auditrail_server_topics".to_owned(), BTreeMap::new())],
        stats["topics"].as_object().unwrap().len() as f64
    );
}

/// `/v1/stats`, `/metrics`, `/v1/stats` again until both stats are equal (the dead
/// letter and the store's own files settle in the background): `/metrics` was then
/// read while every number held still. No timing assumption: up to a minute.
async fn consistent_read(s: &TestServer) -> (Value, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let before = get_json(s, "/v1/stats").await;
        let text = metrics_text(s).await;
        let after = get_json(s, "/v1/stats").await;
        let settled = before["destinations"][0]["deadLettered"] == 1
            && before["destinations"][0]["queueDepth"] == 0;
        if before == after && settled {
            return (after, text);
        }
        assert!(
            Instant::now() < deadline,
            "the statistics never held still:\n{before}\n{after}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every line is one the parser recognises (it skips the ones it cannot read).
fn every_line_parses(text: &str) {
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Doc { .. } | LineInfo::Type { .. } | LineInfo::Sample { .. } => {}
            LineInfo::Empty | LineInfo::Ignored => panic!("unreadable line {line:?}"),
        }
    }
}

type Key = (String, BTreeMap<String, String>);

/// Counter and gauge samples by name and labels (histograms are checked by name only).
fn samples(text: &str) -> HashMap<Key, f64> {
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let mut out = HashMap::new();
    for s in scrape.samples {
        let v = match s.value {
            Sample::Counter(v) => {
                assert!(s.metric.ends_with("_total"), "counter {}", s.metric);
                v
            }
            Sample::Gauge(v) => {
                assert!(!s.metric.ends_with("_total"), "gauge {}", s.metric);
                v
            }
            Sample::Histogram(_) => continue,
            Sample::Untyped(v) => {
                // Only a histogram's `_sum` and `_count` have no type line of their own.
                assert!(
                    s.metric.ends_with("_sum") || s.metric.ends_with("_count"),
                    "untyped {}",
                    s.metric
                );
                v
            }
            Sample::Summary(_) => panic!("summary {}", s.metric),
        };
        let labels = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert!(
            out.insert((s.metric.clone(), labels), v).is_none(),
            "two samples of {}{:?}",
            s.metric,
            s.labels
        );
    }
    out
}

/// Names, types, units and label names of every family.
fn names_follow_the_conventions(text: &str) {
    let name_ok = |n: &str| {
        n.starts_with("auditrail_")
            && n.len() > "auditrail_".len()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let mut helped = Vec::new();
    let mut families = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.push(rest.split(' ').next().unwrap().to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            families += 1;
            assert!(name_ok(name), "name {name}");
            assert!(helped.iter().any(|h| h == name), "no HELP for {name}");
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "{name} is a {kind}"
            );
            for part in name.split('_') {
                // Base units only: seconds and bytes, never a scaled unit.
                assert!(
                    ![
                        "ms",
                        "millis",
                        "milliseconds",
                        "us",
                        "micros",
                        "ns",
                        "kb",
                        "kib",
                        "mb",
                        "mib",
                        "minutes",
                        "hours"
                    ]
                    .contains(&part),
                    "{name}: not a base unit"
                );
            }
            assert!(!name.contains("__") && !name.ends_with('_'), "name {name}");
        } else if !line.starts_with('#') {
            let name_end = line.find(['{', ' ']).unwrap();
            assert!(name_ok(&line[..name_end]), "sample {line}");
            if let (Some(open), Some(close)) = (line.find('{'), line.rfind('}')) {
                for pair in split_labels(&line[open + 1..close]) {
                    let label = pair.split('=').next().unwrap();
                    assert!(
                        !label.is_empty()
                            && label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                        "label {label:?} in {line}"
                    );
                }
            }
        }
    }
    assert!(families > 40, "{families} families");
}

/// `a="x",b="y, z"` into its pairs (commas inside quotes kept).
fn split_labels(s: &str) -> Vec<&str> {
    let (mut out, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Every key of the document is camelCase (the map keys under `nodes`, `topics` and
/// `stores` are names, not keys).
fn camel_case_keys(v: &Value, path: &str) {
    match v {
        Value::Object(map) => {
            let names = ["nodes", "topics", "stores"].contains(&path);
            for (k, v) in map {
                if !names {
                    assert!(
                        k.bytes().all(|b| b.is_ascii_alphanumeric())
                            && k.as_bytes()[0].is_ascii_lowercase(),
                        "/v1/stats key {path}.{k} is not camelCase"
                    );
                }
                camel_case_keys(v, if names { "" } else { k });
            }
        }
        Value::Array(items) => items.iter().for_each(|i| camel_case_keys(i, "")),
        _ => {}
    }
}

/// The numbers of the document by path (`nodes.n1.count`), with the timestamps
/// (`since`, `lastSeen`) and idle ages (`null`) that have a metric too. Lists of
/// ranges (`gaps`, `abandonedRanges`) are detail: their totals are `missing` and
/// `abandoned`.
fn numbers(stats: &Value) -> Vec<(Vec<String>, Value)> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
        let last = path.last().map(String::as_str).unwrap_or("");
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                if ["gaps", "abandonedRanges", "seqJumps"].contains(&last) {
                    return;
                }
                for (i, v) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Number(_) => out.push((path.clone(), v.clone())),
            Value::String(_) if ["since", "lastSeen"].contains(&last) => {
                out.push((path.clone(), v.clone()))
            }
            Value::Null if last == "oldestUndeliveredMs" => out.push((path.clone(), v.clone())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(stats, &mut Vec::new(), &mut out);
    out
}

/// The sample that must carry the number at `path`: name, labels, expected value.
fn metric_of(
    path: &[String],
    number: &Value,
    stats: &Value,
) -> (String, BTreeMap<String, String>, f64) {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let value = match number {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(t) => {
            t.parse::<auditrail_core::Timestamp>()
                .unwrap()
                .unix_millis() as f64
                / 1000.0
        }
        _ => 0.0,
    };
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let unknown = || -> ! { panic!("/v1/stats {p:?} has no metric in this test's table") };
    let (name, labels, value) = match p.as_slice() {
        ["since"] => ("start_time_seconds", labels(&[]), value),
        ["accepted"] => ("events_accepted_total", labels(&[]), value),
        ["duplicates"] => ("events_duplicate_total", labels(&[]), value),
        ["unrouted"] => ("events_unrouted_total", labels(&[]), value),
        ["nodesTracked"] => ("nodes", labels(&[]), value),
        ["nodesForgotten", "nodes"] => ("nodes_forgotten_total", labels(&[]), value),
        ["nodesForgotten", "events"] => ("nodes_forgotten_events_stored_total", labels(&[]), value),
        ["topicsForgotten", "topics"] => ("topics_forgotten_total", labels(&[]), value),
        ["topicsForgotten", "accepted"] => {
            ("topics_forgotten_events_accepted_total", labels(&[]), value)
        }
        ["topicsForgotten", "duplicates"] => (
            "topics_forgotten_events_duplicate_total",
            labels(&[]),
            value,
        ),
        ["nodes", node, field] => {
            let name = match *field {
                "count" => "node_events_stored_total",
                "lastSeen" => "node_last_seen_timestamp_seconds",
                "highestContiguousSeq" => "node_highest_contiguous_seq",
                "highestSeq" => "node_highest_seq",
                "missing" => "node_sequence_missing",
                "abandoned" => "node_sequence_abandoned",
                "deleted" => "node_sequence_deleted",
                "forgottenGaps" => "node_gaps_forgotten_total",
                "duplicates" => "node_events_duplicate_total",
                "seqReused" => "node_seq_reused_total",
                _ => unknown(),
            };
            (name, labels(&[("node", node)]), value)
        }
        ["topics", topic, field] => {
            let name = match *field {
                "accepted" => "topic_events_accepted_total",
                "duplicates" => "topic_events_duplicate_total",
                "lastSeen" => "topic_last_seen_timestamp_seconds",
                _ => unknown(),
            };
            (name, labels(&[("topic", topic)]), value)
        }
        ["destinations", i, rest @ ..] => {
            let d = &stats["destinations"][i.parse::<usize>().unwrap()];
            let (dest, kind) = (d["name"].as_str().unwrap(), d["type"].as_str().unwrap());
            let base = [("destination", dest), ("type", kind)];
            let with_reason = |r| labels(&[base[0], base[1], ("reason", r)]);
            match rest {
                ["accepted"] => ("destination_events_accepted_total", labels(&base), value),
                ["delivered"] => ("destination_events_delivered_total", labels(&base), value),
                ["retried"] => ("destination_events_retried_total", labels(&base), value),
                ["deadLettered"] => (
                    "destination_events_dead_lettered_total",
                    labels(&base),
                    value,
                ),
                ["handedBack"] => ("destination_events_handed_back_total", labels(&base), value),
                ["droppedQueueFull"] => (
                    "destination_events_dropped_total",
                    with_reason("queue_full"),
                    value,
                ),
                // `lost` also counts the spool's losses (`forwarding.lostEvents`,
                // `reason="spool_lost"`); this server's destination has no spool.
                ["lost"] if d["forwarding"].is_null() => (
                    "destination_events_dropped_total",
                    with_reason("dead_letter_failed"),
                    value,
                ),
                ["forwarding", "lostEvents"] => (
                    "destination_events_dropped_total",
                    with_reason("spool_lost"),
                    value,
                ),
                ["queueDepth"] => ("destination_queue_depth", labels(&base), value),
                ["oldestUndeliveredMs"] => (
                    "destination_oldest_undelivered_age_seconds",
                    labels(&base),
                    value / 1000.0,
                ),
                ["forwarding", field] => {
                    let name = match *field {
                        "pendingEvents" => "destination_spool_pending_events",
                        "pendingBytes" => "destination_spool_bytes",
                        "forwarded" => "destination_events_forwarded_total",
                        "deadLettered" => "destination_forward_events_dead_lettered_total",
                        "retries" => "destination_forward_retries_total",
                        "damagedRanges" => "destination_spool_damaged_ranges_total",
                        "damagedBytes" => "destination_spool_damaged_bytes_total",
                        "lostSegments" => "destination_spool_lost_segments_total",
                        "lostBytes" => "destination_spool_lost_bytes_total",
                        _ => unknown(),
                    };
                    (name, labels(&base), value)
                }
                _ => unknown(),
            }
        }
        ["stores", store, field] => {
            let name = match *field {
                "bytes" => "store_bytes",
                "files" => "store_files",
                "batches" => "store_batches_total",
                "records" => "store_records_total",
                "bytesWritten" => "store_written_bytes_total",
                "fsyncs" => "store_fsync_total",
                "fsyncSeconds" => "store_fsync_seconds_total",
                "writeErrors" => "store_write_errors_total",
                "diskFullErrors" => "store_disk_full_errors_total",
                "eventsRefused" => "store_events_refused_total",
                "tornTailsCut" => "store_torn_tails_cut_total",
                "recordsCut" => "store_records_cut_total",
                "corruptFiles" => "store_corrupt_files_total",
                "recordsGone" => "store_records_gone_total",
                "retentionRuns" => "store_retention_runs_total",
                "retentionPartitionsDeleted" => "store_retention_partitions_deleted_total",
                "retentionRecordsDeleted" => "store_retention_records_deleted_total",
                "retentionBytesDeleted" => "store_retention_deleted_bytes_total",
                "retentionArchiveFailures" => "store_retention_archive_failures_total",
                "retentionFailures" => "store_retention_failures_total",
                "retentionPartitionsUnremovable" => "store_retention_partitions_unremovable",
                "retentionPartitionsMisplaced" => "store_retention_partitions_misplaced",
                _ => unknown(),
            };
            (name, labels(&[("destination", store)]), value)
        }
        _ => unknown(),
    };
    (format!("auditrail_server_{name}"), labels, value)
}
