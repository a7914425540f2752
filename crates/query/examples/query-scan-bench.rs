//! `cargo xtask bench query`: how fast the query library scans a day of stored events,
//! against `grep -c` over the same files in the same run (the floor: reading the bytes
//! and finding line ends, no parsing).
//!
//! Writes one day of events (4 nodes, the standard topics, ~500-byte records) into a
//! store laid out as the server lays it out (hour partitions by topic and routing key),
//! then alternates rounds of:
//! - `grep -c clientEvent` over every segment file (one process, all files);
//! - `SELECT count(*) FROM events WHERE <the day>` (every record parsed into rows);
//! - `SELECT node, msgType, count(*) ... GROUP BY` (rows parsed and aggregated).
//!
//! Options: `--events N` (default 500000), `--rounds N` (default 3), `--dir PATH`
//! (default: a temporary folder, removed at the end).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark program

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use auditrail_query::datafusion::arrow::array::{Array, Int64Array};
use auditrail_query::Engine;

const DAY: &str = "2026-11-29";
const NEXT_DAY: &str = "2026-11-30";
const NODES: [&str; 4] = ["design-1", "automation-1", "api-1", "api-2"];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    let events = arg("--events", 500_000);
    let rounds = arg("--rounds", 3);
    let args: Vec<String> = std::env::args().collect();
    let given = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let root = given.unwrap_or_else(|| temp.path().join("store"));
    let started = Instant::now();
    let (files, bytes) = write_day(&root, events);
    println!(
        "query scan: {events} events, {} MB in {} files (written in {:.1} s)",
        bytes / 1_000_000,
        files.len(),
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let window = format!("timestamp >= '{DAY}' AND timestamp < '{NEXT_DAY}'");
    let count_sql = format!("SELECT count(*) FROM events WHERE {window}");
    let group_sql = format!(
        "SELECT node, msgType, count(*) AS n FROM events WHERE {window} GROUP BY node, msgType"
    );
    let mut grep_t = Vec::new();
    let mut count_t = Vec::new();
    let mut group_t = Vec::new();
    for round in 0..rounds {
        let t = Instant::now();
        let out = Command::new("grep")
            .arg("-c")
            .arg("--no-filename")
            .arg("clientEvent")
            .args(&files)
            .output()
            .expect("grep runs");
        grep_t.push(t.elapsed());
        let counted: u64 = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().parse::<u64>().unwrap_or(0))
            .sum();
        assert_eq!(counted, events, "grep counted every record");

        let engine = Engine::builder().store(&root).build().unwrap();
        let t = Instant::now();
        let batches = rt.block_on(engine.collect(&count_sql)).unwrap();
        count_t.push(t.elapsed());
        let n = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(
            u64::try_from(n).unwrap(),
            events,
            "the library counted every record"
        );

        let t = Instant::now();
        let batches = rt.block_on(engine.collect(&group_sql)).unwrap();
        group_t.push(t.elapsed());
        let groups: usize = batches.iter().map(|b| b.num_rows()).sum();
        println!(
            "  round {}: grep -c {:.3} s | count(*) {:.3} s | group by node, msgType ({groups} groups) {:.3} s",
            round + 1,
            grep_t[round as usize].as_secs_f64(),
            count_t[round as usize].as_secs_f64(),
            group_t[round as usize].as_secs_f64(),
        );
    }
    let report = |name: &str, times: &mut Vec<Duration>| {
        times.sort();
        let median = times[times.len() / 2].as_secs_f64();
        println!(
            "  {name:<32} median {median:.3} s  {:>10.0} records/s  {:>7.1} MB/s",
            events as f64 / median,
            bytes as f64 / 1e6 / median
        );
        median
    };
    println!("medians over {rounds} rounds:");
    let g = report("grep -c (baseline)", &mut grep_t);
    let c = report("library: count(*) of the day", &mut count_t);
    let a = report("library: group by node, msgType", &mut group_t);
    println!(
        "  library / grep time: count {:.1}x, group by {:.1}x",
        c / g,
        a / g
    );
}

/// Writes `n` events spread over the day, as store records in hour partitions.
/// Returns the segment files and their total size.
fn write_day(root: &Path, n: u64) -> (Vec<PathBuf>, u64) {
    fs::create_dir_all(root).unwrap();
    fs::write(root.join("store-id"), "bench-store\n").unwrap();
    let topics: [(&str, Option<&str>); 4] = [
        ("generic", None),
        ("authfail", None),
        ("compute-resource-usage", None),
        ("apinode-query", Some("fraud-scoring")),
    ];
    let mut writers = std::collections::BTreeMap::new();
    let mut total = 0u64;
    for i in 0..n {
        let ms_of_day = i * 86_400_000 / n;
        let hour = ms_of_day / 3_600_000;
        let minute = ms_of_day / 60_000 % 60;
        let second = ms_of_day / 1000 % 60;
        let milli = ms_of_day % 1000;
        let ts = format!("{DAY}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z");
        let node = NODES[(i % 4) as usize];
        // Mostly generic, some API queries, few compute and authfail events.
        let (topic, key) = topics[match i % 20 {
            0 => 1,
            1 | 2 => 2,
            3..=8 => 3,
            _ => 0,
        }];
        let message = match topic {
            "apinode-query" => format!(
                r#"{{"msgType":"prediction-query","serviceId":"fraud","endpointId":"predict","deploymentId":"fraud-scoring-prod","callerIP":"172.16.0.{}","responseTimeMS":{},"httpCode":200,"response":{{"prediction":"legit","probaPercentile":{}}}}}"#,
                i % 60,
                i % 120,
                i % 100
            ),
            "compute-resource-usage" => format!(
                r#"{{"msgType":"compute-resource-usage-update","authUser":"alice","computeResourceUsage":{{"id":"cru-{:05}","type":"LOCAL_PROCESS","startTime":1764374400000,"context":{{"type":"JOB_ACTIVITY","projectKey":"CHURN","authIdentifier":"alice"}},"localProcess":{{"cpuTotalMS":{},"vmRSSMB":1200}}}}}}"#,
                i / 100,
                i
            ),
            "authfail" => r#"{"msgType":"login-failed","authUser":"mallory","clientIP":"203.0.113.66","reason":"bad password"}"#.to_owned(),
            _ => format!(
                r#"{{"msgType":"dataset-read-data","authUser":"user{}","authSource":"USER_FROM_UI","clientIP":"10.0.1.{}","projectKey":"PRICING","callPath":"/dip/api/projects/PRICING/datasets/orders"}}"#,
                i % 37,
                i % 200
            ),
        };
        let key_json = key.map_or(String::new(), |k| format!(r#","routingKey":"{k}""#));
        let line = format!(
            r#"{{"clientEvent":{{"id":"01936f6e-1b2c-7d3e-8f40-{i:012x}","timestamp":"{ts}","topic":"{topic}"{key_json},"node":"{node}","seq":{i},"message":{message}}},"origAddress":"10.0.0.{}","serverTimestamp":"{ts}","keyId":"k1","chainSeq":{},"chainHash":"{}"}}"#,
            i % 4,
            i + 1,
            "ab".repeat(32)
        );
        let folder = root
            .join(topic)
            .join(key.unwrap_or("_none"))
            .join(&DAY[0..4])
            .join(&DAY[5..7])
            .join(&DAY[8..10])
            .join(format!("{hour:02}"));
        let w = writers.entry(folder.clone()).or_insert_with(|| {
            fs::create_dir_all(&folder).unwrap();
            let path = folder.join(format!("{:020}.jsonl", i + 1));
            (
                path.clone(),
                BufWriter::new(fs::File::create(path).unwrap()),
            )
        });
        w.1.write_all(line.as_bytes()).unwrap();
        w.1.write_all(b"\n").unwrap();
        total += line.len() as u64 + 1;
    }
    let mut files = Vec::new();
    for (_, (path, mut w)) in writers {
        w.flush().unwrap();
        files.push(path);
    }
    (files, total)
}
