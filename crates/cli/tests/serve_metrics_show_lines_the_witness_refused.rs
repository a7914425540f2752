//! A witness event server that refuses this server's checkpoint events for good (here:
//! it has `[[keys]]` and this server sends none, 401) after the witness's spool took
//! them: the spool's dead-letter file gets them. `/v1/stats`
//! (`witnesses.targets[].refusedByWitness`) and `/metrics`
//! (`auditrail_server_witness_events_refused_by_witness_total`) say so, and the lines
//! count in `linesFailed` (the index of lines given stays before them, so the next
//! start publishes them again; before, the spool's taking moved it). Before, every
//! witness counter read as if the witness held them (delivered, nothing dead-lettered,
//! nothing pending), and the documented alerts stayed quiet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::time::{Duration, Instant};

use serve_support::{event_line, new_id, post_events, request, start};

#[test]
fn lines_a_witness_refuses_for_good_show_in_stats_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("witness.toml"),
        "data_dir = \"witness-data\"\n[[keys]]\nid = \"svc\"\nsecret = \"secret-of-svc\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let witness = start(d, &["--config", "witness.toml"]);
    std::fs::write(
        d.join("a.toml"),
        format!(
            "data_dir = \"a-data\"\nshutdown_timeout_s = 2\n[checkpoints]\nevery_records = 10\n\
             [[witnesses]]\nname = \"w1\"\ntype = \"eventserver\"\nurl = \"http://{}\"\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            witness.addr
        ),
    )
    .unwrap();
    let a = start(d, &["--config", "a.toml"]);
    let body: String = (1..=10u64)
        .map(|n| event_line(&new_id(n, 8), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&a.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let until = Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let (status, body) = request(&a.addr, "GET", "/v1/stats", &[], b"").unwrap();
        assert_eq!(status, 200, "{body}");
        let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
        let t = &stats["witnesses"]["targets"][0];
        // The lines count as failed too: the index of lines given stays before them.
        if t["refusedByWitness"].as_u64().unwrap_or(0) >= 1
            && stats["witnesses"]["linesFailed"].as_u64().unwrap_or(0) >= 1
        {
            break stats;
        }
        assert!(
            Instant::now() < until,
            "the witness's refusal never showed: {stats:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(stats["witnesses"]["targets"][0]["name"], "w1", "{stats:#}");
    let (status, metrics) = request(&a.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200, "{metrics}");
    let sample = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "auditrail_server_witness_events_refused_by_witness_total{witness=\"w1\",type=\"eventserver\"} ",
            )
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(sample.trim().parse::<f64>().unwrap() >= 1.0, "{metrics}");
    drop(witness);
}
